"""The full-size run of the stratified reference check: every sampled task's reference through the judge, and
every level 2-5 baseline through its static stage.

The sample is the paper suite's stratified one (evaluation/sample.py: each level, each family, levels 4-5 easy
and medium), judged as tests/test_judge_references.py judges it in `make test-full` and as
scripts/judge_extended.py judges the extended suite (the same rows and judge settings). Each verdict is kept in
docs/reference_sample_run.json with the day, the machine and a digest of the task it judged; CI checks that every
sampled task has a passing verdict on its current draw (tests/test_judge_references.py), so a change that redraws
a task fails there until the run is repeated. The section of docs/evaluation.md is rendered from the record.
Run it alone (two torch processes on 2 cores spoil every timing):

    .venv/bin/python scripts/judge_sample.py
    .venv/bin/python scripts/judge_sample.py --task L4-001 --no-write
    .venv/bin/python scripts/judge_sample.py --render      # judge nothing: rewrite the section from the record
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from diffbench.models.loading import activate
from diffbench.models.profiles import get_profile

PROFILE = get_profile("tiny-cpu")
activate(PROFILE)  # before anything imports huggingface_hub

from diffbench.evaluation.sample import stratified_sample  # noqa: E402
from diffbench.models.standins.build import build_standins  # noqa: E402
from diffbench.tasks.suite import get_task  # noqa: E402
from doc_sections import publish  # noqa: E402
from judge_extended import RunDoc, judge, read_record, section, table_row  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "evaluation.md"
RECORD = ROOT / "docs" / "reference_sample_run.json"
SAMPLE_RUN = RunDoc("judge_sample.py", "the paper suite's stratified sample: each level, each family, levels 4-5 "
                    "easy and medium", "sample", RECORD, "<!-- sample:begin -->", "<!-- sample:end -->")  # fmt: skip


def render() -> tuple[str, dict[str, dict]]:
    """The doc's section and the record with its verdicts settled, over the sample as it is drawn now."""
    tasks = [get_task(i) for i in stratified_sample()]
    text, _, record = section(read_record(RECORD), tasks, SAMPLE_RUN)
    return text, record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-write", action="store_true", help="print the rows and the section, write nothing")
    parser.add_argument("--task", action="append", help="judge this sampled task only (repeatable)")
    parser.add_argument("--render", action="store_true", help="judge nothing: rewrite the section from the record")
    args = parser.parse_args()
    sample = stratified_sample()
    unknown = [t for t in args.task or [] if t not in sample]
    if unknown:
        parser.error(f"{unknown[0]} is not in the stratified sample ({', '.join(sample)})")
    tasks = [] if args.render else [get_task(i) for i in sample if not args.task or i in args.task]
    if tasks:
        build_standins(PROFILE)
    with tempfile.TemporaryDirectory(prefix="judge-sample-") as tmp:
        for task in tasks:
            row = judge(task, Path(tmp))
            print(table_row(row), flush=True)
            if not args.no_write:  # kept as it comes: an interrupted run loses only the task it was judging
                RECORD.write_text(json.dumps(read_record(RECORD) | {task.id: row}, indent=1, sort_keys=True) + "\n")
    text, record = render()
    if not args.no_write:
        RECORD.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    publish(DOC, SAMPLE_RUN.begin, SAMPLE_RUN.end, text, args.no_write, head="# Evaluation\n")


if __name__ == "__main__":
    main()
