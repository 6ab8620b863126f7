"""How long does loading the content folder take, beside a bare PyYAML load?

    python bench/content_load.py [--cases N] [--repeat R] [--out DIR] [--profile]

Writes N synthetic vignettes (4-5 stages, a diagnosis and a next-step question of 5
options per stage, evidence quotes; 5-7 KB each) and a catalogue into a temporary
folder (or ``--out``), then times, best of R runs:

  (a) bare      ``yaml.load(..., Loader=yaml.CSafeLoader)`` of every case file;
  (b) cold      ``quiz.content.loader.load_content`` with its caches emptied first;
  (c) cached    a second ``load_content`` of the unchanged folder.

Targets: (b)/(a) <= 2, (b) < 2 s for 2000 vignettes, (c) < 10 ms.
The last line is machine-readable: ``cases=N bare_s=.. load_s=.. ratio=.. cached_ms=..``.
"""
from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import random
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from quiz.content import loader  # noqa: E402

DIAGNOSES = [f"dx-{i:02d}" for i in range(24)]
NEXT_STEPS = [f"step-{i:02d}" for i in range(16)]
STAGE_KINDS = ["presentation", "labs", "imaging", "histology", "ihc"]
WORDS = ("mass pain swelling fever weight loss lesion margin enhancement necrosis spindle cells "
         "mitoses atypia desmin actin caldesmon negative positive staining biopsy resection "
         "chemotherapy radiotherapy follow-up recurrence months years patient woman man history").split()


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize()


def quote(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 7)))


def catalogue_yaml() -> str:
    lines = ["catalogue:"]
    for kind, ids in (("diagnosis", DIAGNOSES), ("next_step", NEXT_STEPS)):
        for entry in ids:
            lines += [f"  - id: {entry}", f"    kind: {kind}", f"    label: Label of {entry}",
                      f"    synonyms: [{entry.upper()}]", f"    description: What {entry} means."]
    return "\n".join(lines) + "\n"


def vignette(case_id: str, rng: random.Random) -> dict:
    stages = []
    for s, kind in enumerate(STAGE_KINDS[: rng.randint(4, 5)]):
        questions = []
        for qkind, pool in (("diagnosis", DIAGNOSES), ("next_step", NEXT_STEPS)):
            options = rng.sample(pool, 5)
            question = {
                "id": f"s{s}-{qkind.replace('_', '-')}",
                "kind": qkind,
                "prompt": sentence(rng, 4) + "?",
                "options": [{"id": o, "explanation": sentence(rng, 2) + "."} for o in options],
                "answer": options[0],
                "teaching_note": sentence(rng, 4) + ".",
            }
            if rng.random() < 0.5:
                question["acceptable"] = {options[1]: 0.5}
            questions.append(question)
        stages.append({
            "id": f"stage-{s}",
            "kind": kind,
            "heading": kind.capitalize(),
            "findings": [{"text": sentence(rng, 6) + ".", "evidence": [quote(rng)]}],
            "questions": questions,
        })
    return {
        "id": case_id,
        "title": sentence(rng, 9),
        "summary": sentence(rng, 12) + ".",
        "source": {"authors": ["A. Author", "B. Author"], "title": sentence(rng, 10),
                   "journal": "Journal of Synthetic Cases", "year": rng.randint(1990, 2024),
                   "doi": "10.1000/synthetic"},
        "tags": {"region": ["thigh"], "origin": "primary", "specialty": ["pathology", "radiology"]},
        "difficulty": "intermediate",
        "minutes": 15,
        "objectives": [sentence(rng, 10) + "."],
        "stages": stages,
        "reveal": {
            "diagnosis": sentence(rng, 6),
            "diagnosis_id": DIAGNOSES[0],
            "diagnosis_evidence": [quote(rng)],
            "management": [{"text": sentence(rng, 10) + ".", "evidence": [quote(rng)]}],
            "outcome": [{"text": sentence(rng, 10) + ".", "evidence": [quote(rng)]}],
            "teaching_points": [sentence(rng, 10) + "."],
        },
    }


def vignette_yaml(case_id: str, rng: random.Random) -> str:
    """Block style as authors write it (and as ``yaml.safe_dump`` indents), with the schema line."""
    text = yaml.dump(vignette(case_id, rng), Dumper=yaml.CSafeDumper, sort_keys=False, width=100)
    return "# yaml-language-server: $schema=../schema/case.schema.json\n" + text


def write_folder(root: Path, cases: int, seed: int = 1) -> list[Path]:
    rng = random.Random(seed)
    (root / "cases").mkdir(parents=True, exist_ok=True)
    for old in (root / "cases").glob("synthetic-case-*.yaml"):  # left by an earlier run with --out
        old.unlink()
    (root / "questions.yaml").write_text(catalogue_yaml(), encoding="utf-8")
    paths = []
    for i in range(cases):
        case_id = f"synthetic-case-{i:05d}"
        path = root / "cases" / f"{case_id}.yaml"
        path.write_text(vignette_yaml(case_id, rng), encoding="utf-8")
        paths.append(path)
    return paths


def bare_load(paths: list[Path]) -> tuple[float, float]:
    """Wall-clock and CPU seconds of a plain PyYAML load of every file."""
    start, cpu = time.perf_counter(), time.process_time()
    for path in paths:
        yaml.load(path.read_bytes(), Loader=yaml.CSafeLoader)
    return time.perf_counter() - start, time.process_time() - cpu


def cold_load(root: Path) -> tuple[float, float, loader.Content]:
    """Wall-clock and CPU seconds of load_content with empty caches, and what it returned."""
    loader._file_cache.clear()
    loader._content_cache.clear()
    gc.collect()  # the previous run's objects are garbage now: free them outside the timing
    start, cpu = time.perf_counter(), time.process_time()
    content = loader.load_content(root)
    return time.perf_counter() - start, time.process_time() - cpu, content


def deferred_gc_s() -> float:
    """A young-generation collection right after a load: what is left of the work load_content held off.

    load_content pauses the cyclic collector; the collection that runs when it resumes is
    inside (b). Objects it leaves in the middle generation are walked once more by the next
    such collection, timed here (0 when they were promoted to the oldest generation at once).
    """
    start = time.perf_counter()
    gc.collect(1)
    return time.perf_counter() - start


def run(root: Path, cases: int, repeat: int, profile: bool) -> int:
    paths = write_folder(root, cases)
    sizes = [p.stat().st_size for p in paths]
    print(f"wrote {cases} vignettes to {root}: {min(sizes) / 1024:.1f}-{max(sizes) / 1024:.1f} KB each, "
          f"{sum(sizes) / 2**20:.1f} MB in all")

    bare_runs, runs = [], []
    for _ in range(repeat):  # interleaved, so that a busy spell on the machine hits both
        bare_runs.append(bare_load(paths))
        runs.append(cold_load(root))
        young_gc_s = deferred_gc_s()
    bare_s, bare_cpu = min(r[0] for r in bare_runs), min(r[1] for r in bare_runs)
    load_s, load_cpu, content = min(r[0] for r in runs), min(r[1] for r in runs), runs[-1][2]
    if len(content.cases) != cases or content.errors:
        print(f"error: {len(content.cases)} valid cases of {cases}; first problems:", file=sys.stderr)
        for problem in content.errors[:5]:
            print(f"  {problem}", file=sys.stderr)
        return 1
    cached = []
    for _ in range(20):
        start = time.perf_counter()
        again = loader.load_content(root)
        cached.append(time.perf_counter() - start)
        assert again is content
    cached_ms = min(cached) * 1000

    ratio = load_s / bare_s
    print(f"(a) bare yaml.load CSafeLoader : {bare_s:8.3f} s  ({bare_s / cases * 1e3:.2f} ms per file)")
    print(f"(b) load_content, cold         : {load_s:8.3f} s  ({load_s / cases * 1e3:.2f} ms per file)")
    print(f"(c) load_content, cached       : {cached_ms:8.2f} ms")
    print(f"ratio (b)/(a)                  : {ratio:8.2f}")
    print(f"CPU time: (a) {bare_cpu:.3f} s, (b) {load_cpu:.3f} s, ratio {load_cpu / bare_cpu:.2f} "
          "(steadier than wall-clock time on a busy machine)")
    print(f"    + next young-generation collection after (b): {young_gc_s * 1000:.0f} ms")
    targets = [("ratio <= 2", ratio <= 2), (f"{cases} vignettes < {2 * cases / 2000:g} s", load_s < 2 * cases / 2000),
               ("cached < 10 ms", cached_ms < 10)]
    print("targets: " + ", ".join(f"{name}: {'ok' if met else 'MISSED'}" for name, met in targets))
    if profile:
        loader._file_cache.clear()
        loader._content_cache.clear()
        profiler = cProfile.Profile()
        profiler.enable()
        loader.load_content(root)
        profiler.disable()
        stats = pstats.Stats(profiler, stream=sys.stdout).strip_dirs().sort_stats("tottime")
        stats.print_stats(20)
    print(f"cases={cases} bare_s={bare_s:.3f} load_s={load_s:.3f} ratio={ratio:.2f} cached_ms={cached_ms:.2f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=2000, help="number of vignettes (default 2000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of (a) and (b); the best counts (default 3)")
    parser.add_argument("--out", metavar="DIR", help="write the folder here and keep it (never a real content "
                        "folder: its questions.yaml is overwritten; default: a temporary folder)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one more cold load")
    args = parser.parse_args(argv)
    if args.cases < 1 or args.repeat < 1:
        parser.error("--cases and --repeat must be at least 1")
    if args.out:
        return run(Path(args.out), args.cases, args.repeat, args.profile)
    with tempfile.TemporaryDirectory(prefix="quiz-bench-") as tmp:
        return run(Path(tmp), args.cases, args.repeat, args.profile)


if __name__ == "__main__":
    sys.exit(main())
