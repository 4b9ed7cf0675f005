"""Runs the command-line misuse cases of ``cases.yaml`` against the installed `briefing` and
reports, for the tuning half and the frozen holdout half apart, how many behave as a user needs:
the expected exit code, one `Error:` line naming what the case lists, the right format for
``-o FILE``, and the store unchanged after a failed command.

The cases were written blind (from the documented commands and the rules of issue 23, without the
code) and half were frozen as a holdout before the checks they measure were built.

    python evals/usage/run.py [--half tuning|holdout|both] [--only ID] [--verbose]

Provider cases start a loopback HTTP server that answers every request as the case says; the
sample corpus is ingested once (with the default embedder) and copied into each case's home.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import yaml

ROOT = Path(__file__).resolve().parents[2]
CASES = Path(__file__).with_name("cases.yaml")


def briefing(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "briefing", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, check=False)


def base_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFING_") and k not in {"OPENAI_API_KEY", "OPENAI_BASE_URL"}}
    return {**env, "BRIEFING_HOME": str(home)}


class Behaviour(BaseHTTPRequestHandler):
    """Answers every request with the case's status, content type and body, after its delay."""

    answer: ClassVar[dict] = {}

    def log_message(self, *args):
        pass

    def _answer(self):
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        time.sleep(float(self.answer.get("delay_s") or 0))
        body = str(self.answer.get("body", "")).encode()
        try:
            self.send_response(int(self.answer.get("status", 200)))
            self.send_header("content-type", self.answer.get("content_type", "application/json"))
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    do_GET = do_POST = _answer


def serve(answer: dict) -> ThreadingHTTPServer:
    handler = type("CaseBehaviour", (Behaviour,), {"answer": answer})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def counts(home: Path, cwd: Path) -> dict | None:
    done = briefing(["stats", "--json"], base_env(home), cwd)
    return {k: json.loads(done.stdout)[k] for k in ("articles", "chunks", "files")} if done.returncode == 0 else None


def written_format(path: Path) -> str | None:
    if not path.exists():
        return None
    text = path.read_text(encoding="utf-8", errors="replace").lstrip()
    if text.startswith(("<!DOCTYPE html", "<html")):
        return "html"
    if text.startswith("{"):
        return "json"
    return "md" if text.startswith("#") else "unknown"


def output_path(argv: list[str]) -> str | None:
    for i, arg in enumerate(argv):
        if arg in ("-o", "--output") and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--output="):
            return arg.split("=", 1)[1]
    return None


def run_case(case: dict, corpus_home: Path, work: Path) -> list[str]:
    """What the case found wrong; empty when it behaved."""
    folder = work / case["id"]
    cwd, home = folder / "cwd", folder / "home"
    cwd.mkdir(parents=True)
    if case.get("store") == "corpus":
        shutil.copytree(corpus_home, home)
    env = {**base_env(home), **{k: str(v) for k, v in (case.get("env") or {}).items()}}
    server, names = None, {}
    if case["family"] == "provider":
        if case.get("server"):
            server = serve(case.get("server_behaviour") or {})
            port = server.server_address[1]
        else:
            port = free_port()
        base_url = f"http://127.0.0.1:{port}{case.get('base_url_path') or ''}"
        env["BRIEFING_OPENAI_BASE_URL"] = base_url
        names = {"{base_url}": base_url, "{host_port}": f"127.0.0.1:{port}"}
    before = counts(home, cwd) if case.get("store") == "corpus" else None
    try:
        done = briefing([str(a) for a in case["argv"]], env, cwd)
    finally:
        if server is not None:
            server.shutdown()
    problems = []
    if done.returncode != case["expect_exit"]:
        problems.append(f"exit {done.returncode}, expected {case['expect_exit']}")
    if case["expect_exit"] != 0:
        lines = done.stderr.strip().splitlines()
        errors = [line for line in lines if line.startswith("Error:")]
        if len(errors) != 1 or len(lines) != 1:
            problems.append(f"stderr is not one Error: line: {done.stderr.strip()[:300]!r}")
        message = " ".join(errors).casefold()
        for wanted in case.get("message_names") or []:
            options = [re.sub("|".join(map(re.escape, names)), lambda m: names[m.group(0)], w) if names else w
                       for w in str(wanted).split("|")]
            if not any(option.casefold() in message for option in options):
                problems.append(f"message does not name {wanted!r}")
        if before is not None and counts(home, cwd) != before:
            problems.append("the store changed")
    if case.get("output_file_format"):
        target = output_path([str(a) for a in case["argv"]])
        found = written_format(cwd / target) if target else None
        if found != case["output_file_format"]:
            problems.append(f"wrote {found} to {target}, expected {case['output_file_format']}")
    if problems:
        problems.append(f"stderr: {done.stderr.strip()[:300]!r}")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=Path, default=CASES)
    parser.add_argument("--only", action="append", help="run only this case id (repeatable)")
    parser.add_argument("--half", choices=["tuning", "holdout", "both"], default="both",
                        help="run one half only: tune on `tuning`, look at `holdout` only to report it")
    parser.add_argument("--verbose", action="store_true", help="print every case, not only failures")
    options = parser.parse_args()
    cases = yaml.safe_load(options.cases.read_text())
    if options.only:
        cases = [c for c in cases if c["id"] in options.only]
    if options.half != "both":
        cases = [c for c in cases if bool(c.get("holdout")) == (options.half == "holdout")]
    with tempfile.TemporaryDirectory(prefix="usage-cases-") as tmp:
        work = Path(tmp)
        corpus_home = work / "corpus-home"
        started = time.perf_counter()
        done = briefing(["ingest", str(ROOT / "corpus")], base_env(corpus_home), work)
        if done.returncode != 0:
            sys.exit(f"ingesting the sample corpus failed: {done.stderr}")
        tally: dict[tuple[str, bool], list[int]] = defaultdict(lambda: [0, 0])
        for case in cases:
            problems = run_case(case, corpus_home, work)
            row = tally[case["family"], bool(case.get("holdout"))]
            row[0] += not problems
            row[1] += 1
            if problems or options.verbose:
                half = "holdout" if case.get("holdout") else "tuning"
                print(f"{'FAIL' if problems else 'ok  '} [{half}] {case['id']} ({case['kind']})")
                for problem in problems:
                    print(f"       {problem}")
    print(f"\n{len(cases)} cases in {time.perf_counter() - started:.0f} s")
    for (family, holdout), (passed, total) in sorted(tally.items()):
        print(f"  {family:9s} {'holdout' if holdout else 'tuning ':8s} {passed}/{total} behave ({passed / total:.0%})")


if __name__ == "__main__":
    main()
