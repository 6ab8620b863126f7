"""What does a hostile draft cost, beside a real vignette, on the command line and on the Author page?

    python bench/hostile_input.py [--only NAME ...] [--no-app]

Each input is checked in a fresh child process, so each peak RSS is its own. Two paths:

  cli   ``loader.parse_case`` of the bytes, as ``python -m quiz validate`` checks a file;
  app   the Author page under AppTest: the draft pasted, checked and (when valid) previewed.

Inputs (sizes printed): ``normal`` is the largest real vignette of ``content/``, the baseline.
``stages99k`` is the probe's ``stages: [{}, ...]`` (F1); ``near-miss`` 1,400 questions whose
option ids are one letter off catalogue ids (F2); ``near-miss-in-caps`` the same within the
model's list caps (30 stages of 10 questions of 12 options); ``preview3000`` a valid draft of
3,000 questions (F2's preview); ``unknown-keys`` one mapping of 50,000 unknown fields;
``todo`` 60,000 placeholder strings; ``short-quotes`` the caps filled with too-short quotes (by YAML
aliases, so 33 KB expand to 30,000 values). Each is cut to 300 KB or the size limit of a case file;
``stages-1mb`` and ``unknown-keys-1mb`` fill the whole limit (1 MiB).

For each: wall-clock and CPU seconds, peak RSS of the child (and above its RSS after imports),
problems reported (app: rows of the problems table, and the size of what the session keeps of the
check), and ratios against ``normal`` in the same run. Figures, not pass/fail: the
machine is shared. Target (issue 10): at most a second or two and tens of MB for any input.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

import yaml  # noqa: E402

CONTENT = REPO / "content"


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _limit() -> int:
    from quiz.content import yaml_reader

    return yaml_reader.MAX_BYTES


def _catalogue_ids() -> list[str]:
    bank = yaml.safe_load((CONTENT / "questions.yaml").read_text(encoding="utf-8"))
    return [entry["id"] for entry in bank["catalogue"]]


def _real_case() -> dict:
    largest = max((CONTENT / "cases").glob("*.yaml"), key=lambda p: p.stat().st_size)
    return yaml.safe_load(largest.read_text(encoding="utf-8"))


def _dump(data: object) -> bytes:
    return yaml.dump(data, Dumper=yaml.CSafeDumper, sort_keys=False, width=100).encode()


def _fit(make, limit: int) -> bytes:
    """The largest ``make(n)`` (n halved from a start) that fits under the size limit."""
    n = make.start
    while True:
        raw = make(n)
        if len(raw) <= limit:
            return raw
        n = int(n * limit / len(raw) * 0.98)


def _near_miss_question(i: int, ids: list[str], options: int) -> dict:
    near = [ids[(i + k) % len(ids)][:-1] + "x" for k in range(options)]
    return {"id": f"q{i}", "kind": "diagnosis", "prompt": "What is the leading diagnosis?",
            "options": [{"id": o} for o in near], "answer": near[0]}


def inputs() -> dict[str, callable]:
    limit = _limit()
    ids = _catalogue_ids()
    real = _real_case()

    def normal() -> bytes:
        largest = max((CONTENT / "cases").glob("*.yaml"), key=lambda p: p.stat().st_size)
        return largest.read_bytes()

    def stages99k() -> bytes:
        def make(n):
            return b"stages:\n" + b"- {}\n" * n
        make.start = 99_000
        return _fit(make, min(limit, 300 * 1024))

    def near_miss() -> bytes:
        def make(n):
            stage = dict(real["stages"][0], questions=[_near_miss_question(i, ids, 5) for i in range(n)])
            return _dump(dict(real, stages=[stage]))
        make.start = 1_400
        return _fit(make, limit)

    def near_miss_in_caps() -> bytes:
        stages = [dict(real["stages"][0], id=f"s{s}", questions=[_near_miss_question(s * 10 + q, ids, 12) for q in range(10)])
                  for s in range(30)]
        return _dump(dict(real, stages=stages))

    def preview3000() -> bytes:
        def make(n):
            stage = real["stages"][0]
            question = stage["questions"][0]
            questions = [dict(question, id=f"q{i}") for i in range(n)]
            return _dump(dict(real, stages=[dict(stage, questions=questions)]))
        make.start = 3_000
        return _fit(make, limit)

    def unknown_keys() -> bytes:
        def make(n):
            return b"id: x\n" + b"".join(b"k%d: 1\n" % i for i in range(n))
        make.start = 50_000
        return _fit(make, min(limit, 300 * 1024))

    def todo() -> bytes:
        def make(n):
            return b"objectives:\n" + b"- TODO\n" * n
        make.start = 60_000
        return _fit(make, min(limit, 300 * 1024))

    def short_quotes() -> bytes:
        def make(n):
            finding = {"text": "A finding.", "evidence": ["x"] * n}
            stages = [dict(real["stages"][0], id=f"s{s}", findings=[finding] * 50) for s in range(30)]
            return _dump(dict(real, stages=stages))
        make.start = 20
        return _fit(make, limit)

    def full_size(name_of, make_fn):
        def make():
            def build(n):
                return make_fn(n)
            build.start = 300_000
            return _fit(build, limit)
        return make

    return {"stages-1mb": full_size("stages", lambda n: b"stages:\n" + b"- {}\n" * n),
            "unknown-keys-1mb": full_size("keys", lambda n: b"id: x\n" + b"".join(b"k%d: 1\n" % i for i in range(n))),
            "normal": normal, "stages99k": stages99k, "near-miss": near_miss, "near-miss-in-caps": near_miss_in_caps,
            "preview3000": preview3000, "unknown-keys": unknown_keys, "todo": todo, "short-quotes": short_quotes}


# --- the child: one input, one path ----------------------------------------------------

def child(name: str, path: str) -> dict:
    raw = inputs()[name]()
    from quiz.content import loader

    catalogue = loader.load_content(CONTENT).catalogue
    out = {"bytes": len(raw)}
    if path == "cli":
        base = _rss_mb()
        start, cpu = time.perf_counter(), time.process_time()
        parsed = loader.parse_case(raw, "draft.yaml", catalogue)
        out.update(problems=len(parsed.problems), valid=parsed.model is not None)
    else:
        os.environ.pop("QUIZ_SOURCES_DIR", None)
        os.environ["QUIZ_DATABASE_URL"] = "sqlite:///:memory:"
        from streamlit.testing.v1 import AppTest

        from quiz.ui import author

        at = AppTest.from_string("from quiz.ui import author\nauthor.render()\n", default_timeout=600).run()
        text = raw.decode("utf-8")
        base = _rss_mb()
        start, cpu = time.perf_counter(), time.process_time()
        at.text_area(key=author.TEXT_KEY).set_value(text)
        at.run()
        rows = len(at.table[0].value) if at.table else 0
        preview = any(b.label == "Commit answers" for b in at.button)
        restart = next((b for b in at.button if b.label == "Restart preview"), None)
        first_s = time.perf_counter() - start
        if restart is not None:
            restart.click()
            at.run()
        import pickle

        kept = at.session_state[author.PARSED_KEY][2] if author.PARSED_KEY in at.session_state else None
        out.update(problems=rows, valid=preview, first_s=round(first_s, 3), exception=bool(at.exception),
                   kept_kb=len(pickle.dumps(kept)) / 1024)
    out.update(wall_s=time.perf_counter() - start, cpu_s=time.process_time() - cpu, peak_mb=_peak_mb(),
               base_mb=base)
    return out


def run_child(name: str, path: str) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", name, path], capture_output=True, text=True,
                          cwd=REPO, timeout=1800)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", help="input names to run (default: all)")
    parser.add_argument("--no-app", action="store_true", help="only the command-line path")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return 0
    names = args.only or list(inputs())
    if "normal" not in names:
        names.insert(0, "normal")
    paths = ["cli"] if args.no_app else ["cli", "app"]
    print(f"size limit of a case file: {_limit():,} bytes")
    header = (f"{'input':<18} {'path':<4} {'KB':>6} {'wall s':>7} {'cpu s':>6} {'peak MB':>8} {'+MB':>6} "
              f"{'x wall':>7} {'x +MB':>6} {'problems':>8}  valid")
    print(header)
    base: dict[str, dict] = {}
    for path in paths:
        for name in names:
            r = run_child(name, path)
            if "error" in r:
                print(f"{name:<18} {path:<4} failed: {r['error']}")
                continue
            grown = r["peak_mb"] - r["base_mb"]
            if name == "normal":
                base[path] = dict(r, grown=grown)
            b = base.get(path)
            ratio_wall = r["wall_s"] / b["wall_s"] if b else float("nan")
            ratio_mem = grown / max(b["grown"], 1.0) if b else float("nan")
            extra = (f"  (first render {r['first_s']:.2f} s; {r['kept_kb']:,.0f} KB kept in the session)"
                     if path == "app" else "")
            print(f"{name:<18} {path:<4} {r['bytes'] / 1024:6.0f} {r['wall_s']:7.2f} {r['cpu_s']:6.2f} "
                  f"{r['peak_mb']:8.0f} {grown:6.0f} {ratio_wall:7.1f} {ratio_mem:6.1f} {r['problems']:8d}  "
                  f"{r['valid']}{extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
