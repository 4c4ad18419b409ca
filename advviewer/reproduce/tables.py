"""Rows of the report's tables from a results record (also the CSV files): plain lists of cells."""

from __future__ import annotations

from typing import Any

from advviewer.reproduce import paper

Cell = Any  # a table cell: a name, a count, a fraction, (train, test) errors, or None where nothing was measured


def label(model: str) -> str:
    name = paper.paper_name(model)
    return paper.PAPER_LABELS[name] if name else model


def pct(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{100 * value:.{digits}f}%"


def num(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def table1_rows(results: dict, split: str) -> tuple[list[str], list[list[Cell]]]:
    """Per model: errors, then success / mean / median distortion for both readings, then the paper's."""
    head = ["model", "train error", "test error", "paper train / test error",
            "nearest: success", "nearest: mean", "nearest: median",
            "random target: success", "random target: mean", "random target: median",
            "paper: av. min. distortion", "nearest / paper", "random / paper"]
    rows = []
    for model, row in results["table1"].items():
        p = paper.TABLE1.get(paper.paper_name(model) or "")
        near, rand = row[split]["nearest"], row[split]["random"]
        rows.append([model, row["train_error"], row["test_error"], (p[0], p[1]) if p else None,
                     near["success_rate"], near["mean_distortion"], near["median_distortion"],
                     rand["success_rate"], rand["mean_distortion"], rand["median_distortion"],
                     p[2] if p else None, _ratio(near["mean_distortion"], p[2] if p else None),
                     _ratio(rand["mean_distortion"], p[2] if p else None)])
    return head, rows


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def transfer_rows(results: dict, reading: str) -> tuple[list[str], list[list[Cell]]]:
    """Table 2 for one reading: made-for rows, evaluated-on columns, then examples and distortion."""
    block = results["table2"][reading]["transfer"]
    models = list(block)
    head = ["made for"] + models + ["examples", "av. distortion"]
    rows: list[list[Cell]] = []
    for made_for, row in block.items():
        rows.append([made_for] + [row["errors"][m] for m in models] + [row["examples"], row["mean_distortion"]])
    return head, rows


def noise_rows(results: dict) -> tuple[list[str], list[list[Cell]]]:
    noise = results["table2"]["noise"]
    models = list(noise["clean"]["errors"])
    head = ["input"] + models + ["av. distortion"]
    rows: list[list[Cell]] = []
    for key, row in noise.items():
        rows.append([key if key == "clean" else f"Gaussian noise {key}"] + [row["errors"][m] for m in models] + [row["mean_distortion"]])
    return head, rows


def scaling_rows(results: dict, reading: str) -> tuple[list[str], list[list[Cell]]]:
    """Mean error in the other models when every perturbation is multiplied by 1, 1.5, 2, 3."""
    block = results["table2"][reading]
    scales = list(block["scaled_off_diagonal_mean"])
    head = ["made for"] + [f"x{s}: transfer" for s in scales] + [f"x{s}: distortion" for s in scales]
    rows: list[list[Cell]] = []
    for model in block["transfer"]:
        rows.append([model] + [block["scaled_off_diagonal_mean"][s][model] for s in scales]
                    + [block["scaled_mean_distortion"][s][model] for s in scales])
    return head, rows


def csv_cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple):
        return "/".join(csv_cell(v) for v in value)
    return str(value)
