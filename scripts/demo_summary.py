"""The demo's closing summary: the metrics, what a reader would find odd in them, the leaks de-duplication
found, stage times and where every report and plot is. Also written to ``OUT/summary.json``."""

from __future__ import annotations

import json
import re
from pathlib import Path

#: The demo's time budget on the 2-core CI machine (README, bench/bench_demo.py).
TARGET_SECONDS = 180.0
CHANCE = 10.0  # RemoteCount: ten candidate counts per image


def headline_metrics(eval_results: dict, count_results: dict) -> list[tuple[str, float, float]]:
    """(metric, trained, init) rows from rs-clip-eval's and rs-count's results.json, all in %."""
    ev = eval_results["results"]
    ret, cls = ev["trained"]["synthetic-RSICD"], ev["trained"]["synthetic-scenes"]
    ret0, cls0 = ev["init"]["synthetic-RSICD"], ev["init"]["synthetic-scenes"]
    rows = [
        (
            "retrieval mean recall (synthetic RSICD)",
            ret["retrieval"]["mean_recall"],
            ret0["retrieval"]["mean_recall"],
        ),
        ("zero-shot top-1 (synthetic scenes)", cls["zeroshot"]["top1"], cls0["zeroshot"]["top1"]),
        ("linear probe top-1", cls["linear_probe"]["top1"], cls0["linear_probe"]["top1"]),
    ]
    for k in cls["fewshot"]["shots"]:
        rows.append(
            (
                f"{k}-shot linear probe top-1 (mean over seeds)",
                cls["fewshot"]["shots"][k]["mean"],
                cls0["fewshot"]["shots"][k]["mean"],
            )
        )
    rows.append(("k-NN top-1 (k=20, T=0.07)", cls["knn"]["top1"], cls0["knn"]["top1"]))
    count = {(r["model"], r["variant"]): r for r in count_results["results"]}
    for variant in ("words", "digits"):
        rows.append(
            (
                f"RemoteCount top-1 ({variant}; chance {CHANCE:g})",
                count["trained", variant]["topk"]["top1"],
                count["init", variant]["topk"]["top1"],
            )
        )
    return rows


def leaks(out: Path) -> dict:
    """What rs-synth planted among the training scenes and what ``rs-annotate dedup`` removed."""
    truth = json.loads((out / "raw" / "dota" / "_truth.json").read_text())
    planted = [im["meta"]["planted"] for im in truth["images"] if "planted" in im["meta"]]
    report = json.loads((out / "datasets" / "train.report.json").read_text())
    return {
        "planted_evaluation_copies": sum(p["from"] != "self" for p in planted),
        "planted_repeats": sum(p["from"] == "self" for p in planted),
        "rows_in": report["rows_in"],
        "rows_out": report["rows_out"],
        "removed_duplicates": report["removed_duplicates"],
        "removed_contaminated": report["removed_contaminated"],
        "contaminated_per_set": {Path(k).name: v for k, v in report["contaminated_per_against"].items()},
    }


def caption_digits(dataset: Path) -> dict[str, int]:
    """How a caption dataset's train split writes numbers: captions, those holding any digit, and those
    writing a count of 1 to 10 (RemoteCount's) in digits."""
    from rs_formats import open_dataset
    from rs_formats.columns import captions_of

    texts, _ = captions_of(open_dataset(dataset), "train")
    return {
        "captions": len(texts),
        "any_digit": sum(bool(re.search(r"\d", t)) for t in texts),
        "count_in_digits": sum(bool(re.search(r"\b([1-9]|10)\b", t)) for t in texts),
    }


def digits_look_odd(words: float, digits: float) -> bool:
    """The trained model counts in words but not in digits: near chance with digits, clearly above with words."""
    return digits <= CHANCE + 2.5 and words >= digits + 5


def notes(
    rows: list[tuple[str, float, float]], found: dict, digits_in: dict[str, int], classes: int
) -> list[str]:
    """One line for each result a reader would find odd, and for what de-duplication found."""
    metric = {name.split(" (")[0] + (" digits" if "digits" in name else ""): (t, i) for name, t, i in rows}
    lines = []
    per_set = ", ".join(f"{n} of {name}" for name, n in found["contaminated_per_set"].items() if n) or "none"
    lines.append(
        f"de-duplication removed {found['rows_in'] - found['rows_out']} of {found['rows_in']} training "
        f"images: {found['removed_duplicates']} repeated scenes and {found['removed_contaminated']} "
        f"evaluation images ({per_set}); rs-synth had planted {found['planted_repeats']} and "
        f"{found['planted_evaluation_copies']}."
    )
    words, digits = metric["RemoteCount top-1"][0], metric["RemoteCount top-1 digits"][0]
    if digits_look_odd(words, digits):
        seen = (
            f"{digits_in['count_in_digits']} of {digits_in['captions']}"
            if digits_in["count_in_digits"]
            else "none of the"
        )
        lines.append(
            f"RemoteCount with digits ({digits:.1f}) stays near chance ({CHANCE:g}) where words reach "
            f"{words:.1f}: {seen} training captions write a count of 1 to 10 in digits. B2C spells "
            f'them ("three planes"; only counts of 100 and more get digits: {digits_in["any_digit"]} '
            "captions), so the model learns the words, not the digits."
        )
    probe, chance = metric["linear probe top-1"][1], 100 / classes
    if probe >= 2 * chance:
        lines.append(
            f"'init' is the random initialisation training started from. Its linear probe ({probe:.1f}) "
            f"and k-NN are far above chance ({chance:.1f} for {classes} classes) without any training: "
            "colour and texture survive random weights, and those learners need nothing else."
        )
    return lines


def files(out: Path) -> list[tuple[str, Path]]:
    """(what, path) of every report, plot and log the demo wrote; each exists."""
    listed = [
        ("training set", out / "datasets" / "train"),
        ("de-duplication report", out / "datasets" / "train.report.json"),
        ("training set statistics", out / "plots" / "annotate" / "stats.json"),
        *[("training set plot", p) for p in sorted((out / "plots" / "annotate").glob("*.png"))],
        ("captions (contact sheet)", out / "plots" / "contact_sheet.png"),
        ("trained checkpoint", out / "run" / "final"),
        ("training metrics", out / "run" / "metrics.jsonl"),
        *[("Ray/DeepSpeed/torch log", p) for p in sorted((out / "run" / "logs").glob("*.log"))],
        ("evaluation report", out / "eval" / "report.md"),
        ("evaluation results", out / "eval" / "results.json"),
        *[("evaluation plot", p) for p in sorted((out / "eval" / "plots").glob("*.png"))],
        ("RemoteCount report", out / "count" / "report.md"),
        ("RemoteCount results", out / "count" / "results.json"),
        *[("RemoteCount plot", p) for p in sorted((out / "count").glob("*.png"))],
        ("this summary", out / "summary.json"),
    ]
    return listed


def summarise(out: Path, times: dict[str, float], steps: int) -> None:
    eval_results = json.loads((out / "eval" / "results.json").read_text())
    rows = headline_metrics(eval_results, json.loads((out / "count" / "results.json").read_text()))
    found = leaks(out)
    digits_in = caption_digits(out / "datasets" / "train")
    explained = notes(
        rows, found, digits_in, len(eval_results["datasets"]["synthetic-scenes"]["class_names"])
    )
    total = sum(times.values())
    (out / "summary.json").write_text(
        json.dumps(
            {
                "metrics": [{"metric": m, "trained": t, "init": i} for m, t, i in rows],
                "steps": steps,
                "stage_seconds": times,
                "total_seconds": total,
                "target_seconds": TARGET_SECONDS,
                "leaks": found,
                "caption_digits": digits_in,
                "notes": explained,
            },
            indent=2,
        )
        + "\n"
    )

    width = max(len(m) for m, _, _ in rows)
    print(f"\n=== results: the trained model vs its initialisation ({steps} steps; accuracies in %)")
    print(f"{'metric':<{width}}  {'trained':>7}  {'init':>7}")
    for name, trained, init in rows:
        print(f"{name:<{width}}  {trained:7.1f}  {init:7.1f}")
    print()
    for line in explained:
        print(f"note: {line}")

    width = max(len(name) for name in times)
    print(f"\n=== stage times (target: {TARGET_SECONDS / 60:.0f} minutes in all on the 2-core CI machine)")
    for name, secs in times.items():
        print(f"{name:<{width}}  {secs:6.1f} s")
    print(f"{'total':<{width}}  {total:6.1f} s")

    listed = files(out)
    width = max(len(what) for what, _ in listed)
    print("\n=== where everything is")
    for what, path in listed:
        print(f"{what:<{width}}  {path}")
