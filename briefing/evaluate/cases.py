"""Evaluation suites: case files (YAML, or JSONL with a header line) of brief and ask cases, each
with the facts a good answer states and the words it must not contain."""

from __future__ import annotations

import json
import os
import re
from datetime import date, datetime
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from briefing.dates import retrieval_filter
from briefing.errors import InputError
from briefing.models import RetrievalFilter


class KeyFact(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fact: str = Field(description="Case-insensitive regex the output must state.")
    articles: list[str] = Field(default_factory=list, description="Articles that state it: file names or item ids.")

    @field_validator("fact")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regex ({exc})") from None
        return value


class EvalCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    kind: Literal["brief", "ask"]
    query: str = Field(min_length=3)
    since: date | datetime | None = None
    until: date | datetime | None = None
    publishers: list[str] = Field(default_factory=list)
    unanswerable: bool = False
    must_include: list[KeyFact] = Field(default_factory=list)
    must_not_include: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> EvalCase:
        if self.unanswerable and self.kind != "ask":
            raise ValueError("unanswerable applies to ask cases only")
        if self.unanswerable and self.must_include:
            raise ValueError("an unanswerable case has no must_include facts")
        return self

    def filters(self) -> RetrievalFilter:
        return retrieval_filter(self.since, self.until, publishers=self.publishers, names=("since", "until"))


class Suite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    suite: str
    description: str = ""
    corpus: str = Field(description="File or folder the cases run on, relative to the suite file.")
    corpus_env: str | None = Field(None, description="Environment variable that may point the corpus elsewhere.")
    cases: list[EvalCase] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> Suite:
        seen = [c.id for c in self.cases]
        twice = sorted({i for i in seen if seen.count(i) > 1})
        if twice:
            raise ValueError(f"duplicate case ids: {', '.join(twice)}")
        return self


def load_suite(path: Path) -> Suite:
    """A suite from YAML (`suite`, `corpus`, `cases`) or JSONL (a header line, then one case a line)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(str(path), f"cannot read suite ({exc.strerror or exc})") from None
    try:
        if path.suffix == ".jsonl":
            lines = [json.loads(line) for line in text.splitlines() if line.strip()]
            data = {**(lines[0] if lines else {}), "cases": lines[1:]}
        else:
            data = yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise InputError(str(path), f"cannot parse suite ({str(exc).splitlines()[0]})") from None
    try:
        return Suite.model_validate(data)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"]) or "suite"
        raise InputError(str(path), f"{where}: {problem['msg']}") from None


def suite_files(target: Path) -> list[Path]:
    if target.is_dir():
        return sorted(p for p in target.iterdir() if p.suffix in {".yaml", ".yml", ".jsonl"})
    return [target]


def corpus_of(suite: Suite, suite_file: Path) -> Path:
    override = os.environ.get(suite.corpus_env) if suite.corpus_env else None
    return Path(override) if override else (suite_file.parent / suite.corpus).resolve()
