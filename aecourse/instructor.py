"""Student notebooks and grading: the instructor's two commands.

  python -m aecourse.instructor student book/ --out student/           # copies without solutions
  python -m aecourse.instructor grade student/x.ipynb --csv grades.csv  # run a completed copy, grade it

A student copy is the book's own notebook with every gated solution removed (from the ``{solution-start}``
markdown cell through the ``{solution-end}`` cell, and any ``{solution}`` block inside a markdown cell)
and outputs cleared; the prompts and the stubs (a function stub raises ``NotImplementedError`` with the
exercise label) stay, and nothing else changes. Grading executes a notebook in a fresh kernel with the environment
variable ``AECOURSE_GRADE_LOG`` naming a file, where every checker appends its result (see
``aecourse.exercises._core``); each exercise label found in the notebook's ``{exercise}`` directives is
then reported as pass, fail or not reached (or manual, for an exercise without a checker).
"""
from __future__ import annotations

import argparse
import copy
import csv
import json
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import nbformat
from nbformat import NotebookNode

__all__ = ["student_notebook", "write_student_notebooks", "exercise_labels", "solution_labels", "stub_labels",
           "colab_url", "execute_notebook", "grade", "format_report", "write_csv", "CellRun", "Execution",
           "ExerciseGrade", "GradeReport", "main"]

# A MyST directive opens with three or more backticks or colons and a {name}; the fence closes it
# (CommonMark: the same character, at least as many of it, nothing else on the line).
_OPEN = re.compile(r"^ {0,3}(?P<fence>`{3,}|:{3,})\s*(?:\{(?P<name>[A-Za-z][\w-]*)\})?(?P<arg>.*)$")
_STUB = re.compile(r"NotImplementedError\(\s*[\"'](?P<label>[A-Za-z][\w:.-]*)[\"']\s*\)")
_TIMEOUT_ENAME = "CellTimeoutError"


@dataclass
class _Block:
    name: str | None   # directive name, or None for a plain code fence
    arg: str           # the rest of the opening line (a solution's exercise label, an exercise's title)
    start: int         # first line (the opening fence)
    end: int           # one past the closing fence (or the cell's end when the fence is never closed)
    lines: list[str]

    def option(self, key: str) -> str | None:
        """Value of ``:key: value`` (or ``key: value`` in a ``---`` YAML header) right after the opening."""
        body = self.lines[self.start + 1:self.end]
        in_yaml = bool(body) and body[0].strip() == "---"
        for line in body[1:] if in_yaml else body:
            text = line.strip()
            if in_yaml:
                if text == "---":
                    return None
                m = re.match(rf"{re.escape(key)}\s*:\s*(.*)$", text)
            else:
                if not text.startswith(":"):
                    return None
                m = re.match(rf":{re.escape(key)}:\s*(.*)$", text)
            if m:
                return m.group(1).strip().strip("\"'")
        return None


def _blocks(source: str) -> list[_Block]:
    """Every fenced block of a markdown cell (nested ones too), in order of their opening lines."""
    lines = source.splitlines(keepends=True)
    found: list[_Block] = []
    stack: list[tuple[str, int, _Block]] = []   # (fence character, fence length, block)
    for i, line in enumerate(lines):
        text = line.rstrip("\r\n")
        if stack:
            char, n, block = stack[-1]
            if re.fullmatch(rf" {{0,3}}{re.escape(char)}{{{n},}}\s*", text):
                block.end = i + 1
                stack.pop()
                continue
            if block.name is None:   # inside a plain code fence: no directives there
                continue
        m = _OPEN.match(text)
        if m:
            fence = m.group("fence")
            if m.group("name") is None and fence[0] == ":":
                continue   # a bare ':::' line that closes nothing is text
            block = _Block(m.group("name"), m.group("arg").strip(), i, len(lines), lines)
            found.append(block)
            stack.append((fence[0], len(fence), block))
    return found


def _markdown_blocks(nb: NotebookNode):
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            for block in _blocks(cell.source):
                yield index, block


def exercise_labels(nb: NotebookNode) -> list[str]:
    """The labels of the notebook's ``{exercise}`` (and ``{exercise-start}``) directives, in order."""
    labels = []
    for _, block in _markdown_blocks(nb):
        if block.name in ("exercise", "exercise-start"):
            label = block.option("label")
            if label and label not in labels:
                labels.append(label)
    return labels


def solution_labels(nb: NotebookNode) -> list[str]:
    """The exercise labels named by the notebook's solutions (gated or not), in order."""
    return [block.arg for _, block in _markdown_blocks(nb) if block.name in ("solution-start", "solution")]


def stub_labels(nb: NotebookNode) -> list[str]:
    """Labels of the stubs: code cells that raise ``NotImplementedError("<label>")``."""
    labels = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            for m in _STUB.finditer(cell.source):
                if m.group("label") not in labels:
                    labels.append(m.group("label"))
    return labels


def student_notebook(nb: NotebookNode, name: str = "the notebook") -> NotebookNode:
    """A student copy of ``nb``: solutions removed, outputs and execution counts cleared, nothing else changed.

    Removes every cell from a markdown cell holding ``{solution-start}`` through the one holding
    ``{solution-end}`` (text in those two cells outside the directives stays) and every ``{solution}``
    block of a markdown cell; a markdown cell left empty is dropped. ``name`` is used in error messages.
    Raises ``ValueError`` when the solution markers do not pair up.
    """
    out = copy.deepcopy(nb)
    cells = []
    inside: int | None = None   # index of the cell whose solution-start is still open
    for index, cell in enumerate(out.cells):
        if cell.cell_type != "markdown":
            if inside is None:
                cells.append(cell)
            continue
        lines = cell.source.splitlines(keepends=True)
        events = []   # (line, kind, block): where solutions open and close in this cell
        for block in _blocks(cell.source):
            if block.name == "solution-start":
                events.append((block.start, "start", block))
            elif block.name == "solution-end":
                events.append((block.end, "end", block))
            elif block.name == "solution":
                events.append((block.start, "block", block))
        if not events:
            if inside is None:
                cells.append(cell)
            continue
        kept: list[str] = []
        pos = 0
        skip_until = -1   # inside a {solution} block (nested blocks lie within it)
        for line, kind, block in sorted(events, key=lambda e: e[0]):
            if kind == "start":
                if inside is not None:
                    raise ValueError(
                        f"{name}: cell {index} opens a solution with {{solution-start}} {block.arg} while the "
                        f"one opened in cell {inside} is not closed yet; add a markdown cell ```{{solution-end}}``` "
                        f"before it.")
                kept += lines[pos:block.start]
                inside = index
            elif kind == "end":
                if inside is None:
                    raise ValueError(
                        f"{name}: cell {index} has a {{solution-end}} without a {{solution-start}} before it; "
                        f"open the solution with ```{{solution-start}} <exercise label>``` and `:class: dropdown`.")
                inside, pos = None, block.end
            elif inside is None and block.start >= skip_until:   # a {solution} block outside a gated solution
                kept += lines[pos:block.start]
                pos = skip_until = block.end
        if inside is None:
            kept += lines[pos:]
        text = "".join(kept)
        if text.strip():
            cell.source = text.strip("\n")
            cells.append(cell)
    if inside is not None:
        raise ValueError(f"{name}: the {{solution-start}} in cell {inside} is never closed; add a markdown cell "
                         f"```{{solution-end}}``` after the solution's code.")
    for cell in cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    out.cells = cells
    out.metadata.pop("widgets", None)   # saved widget state is output too
    left = [b.name for _, b in _markdown_blocks(out) if b.name and b.name.startswith("solution")]
    if left:   # an invariant: the loop above removes every solution directive
        raise AssertionError(f"{name}: solution directives survived: {left}")
    return out


def _sources(paths: Iterable[str | Path]) -> list[tuple[Path, Path]]:
    """(notebook, path relative to the output folder) for files and for the notebooks inside folders."""
    found = []
    for p in map(Path, paths):
        if p.is_dir():
            found += [(nb, nb.relative_to(p)) for nb in sorted(p.glob("*.ipynb"))]
        elif p.suffix == ".ipynb" and p.is_file():
            found.append((p, Path(p.name)))
        else:
            raise FileNotFoundError(f"{str(p)!r} is neither a notebook (.ipynb) nor a folder of notebooks; "
                                    f"pass book/ or book/<chapter>.ipynb.")
    return found


def write_student_notebooks(paths: Iterable[str | Path], out: str | Path) -> list[Path]:
    """Write a student copy of every notebook in ``paths`` (files, or folders of ``*.ipynb``) into ``out``.

    Returns the paths written. Raises ``ValueError`` when ``out`` would overwrite a source notebook or two
    sources share a name, and when a notebook's solution markers do not pair up.
    """
    out, paths = Path(out), list(paths)
    pairs = _sources(paths)
    if not pairs:
        raise FileNotFoundError(f"no notebooks found in {[str(p) for p in paths]}; pass book/ or notebook files.")
    targets = [out / rel for _, rel in pairs]
    for (src, _), dst in zip(pairs, targets):
        if dst.resolve() == src.resolve():
            raise ValueError(f"--out {str(out)!r} would overwrite the source {str(src)!r}; choose another "
                             f"folder, e.g. --out student/.")
    if len(set(targets)) != len(targets):
        raise ValueError(f"two sources would be written to the same file in {str(out)!r}; pass them separately.")
    copies = [student_notebook(nbformat.read(src, as_version=4), name=str(src)) for src, _ in pairs]
    for nb, dst in zip(copies, targets):
        dst.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, dst)
    return targets


def colab_url(repo: str, path: str | Path, ref: str = "main") -> str:
    """The Colab link that opens the notebook at ``path`` of the GitHub repository ``repo`` ("owner/name")."""
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", repo):
        raise ValueError(f"repo={repo!r} is not of the form 'owner/name'; pass e.g. 'my-school/ae-course'.")
    return f"https://colab.research.google.com/github/{repo}/blob/{ref}/{Path(path).as_posix().lstrip('/')}"


# --------------------------------------------------------------------------------------------- executing

@dataclass
class CellRun:
    """What happened to one code cell: ``status`` is "ok", "error", "timeout" or "died"."""
    index: int
    status: str
    ename: str = ""
    evalue: str = ""


@dataclass
class Execution:
    nb: NotebookNode
    cells: list[CellRun]
    problem: str | None   # why execution stopped early (kernel died, did not start, ...), or None
    seconds: float

    @property
    def errors(self) -> list[CellRun]:
        return [c for c in self.cells if c.status != "ok"]


def execute_notebook(nb: NotebookNode, *, timeout: float = 120, cwd: str | Path | None = None,
                     env: dict | None = None, kernel_name: str | None = None,
                     startup_timeout: float = 60) -> Execution:
    """Run every code cell of a copy of ``nb`` in a fresh kernel, never raising on what the code does.

    Errors are allowed (each is recorded); a cell that runs past ``timeout`` seconds is interrupted and
    recorded as "timeout", and execution goes on; a kernel that dies stops execution with a ``problem``.
    ``env`` is added to this process's environment for the kernel.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    source = nb
    runs: list[CellRun] = []
    current: dict = {"index": None}
    limit = f"ran past the time limit of {timeout:g} s and was interrupted"

    def on_cell_execute(cell, cell_index):
        current["index"] = cell_index

    def on_cell_executed(cell, cell_index, execute_reply):
        content = (execute_reply or {}).get("content", {})
        if content.get("status") != "error":
            runs.append(CellRun(cell_index, "ok"))
            return
        ename, evalue = content.get("ename", ""), content.get("evalue", "")
        if ename == _TIMEOUT_ENAME:
            runs.append(CellRun(cell_index, "timeout", ename, evalue))
            cell.outputs.append(nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[evalue]))
        else:
            runs.append(CellRun(cell_index, "error", ename, evalue))

    start = time.perf_counter()
    # A kernel that fails to start is started again: two kernels started at the same moment can be given
    # the same free port, and the second then dies at once ("Address already in use"). Only a failure
    # before the first cell ran is retried; what the notebook's own code does is never run twice.
    for _ in range(KERNEL_START_ATTEMPTS):
        nb = copy.deepcopy(source)
        runs.clear()
        current["index"] = None
        problem = _run_client(NotebookClient(
            nb, timeout=timeout, startup_timeout=startup_timeout, allow_errors=True,
            kernel_name=kernel_name or nb.metadata.get("kernelspec", {}).get("name", "python3"),
            interrupt_on_timeout=True,
            error_on_timeout={"ename": _TIMEOUT_ENAME, "evalue": f"the cell {limit}", "traceback": []},
            resources={"metadata": {"path": str(cwd)}} if cwd else {},
            on_cell_execute=on_cell_execute, on_cell_executed=on_cell_executed,
        ), env, runs, current, DeadKernelError, CellTimeoutError)
        if problem is None or current["index"] is not None:
            break
    seconds = time.perf_counter() - start
    timeouts = [r.index for r in runs if r.status == "timeout"]
    if timeouts:
        note = f"cell{'s' if len(timeouts) > 1 else ''} {', '.join(map(str, timeouts))} {limit}."
        problem = note if problem is None else f"{problem} Also, {note}"
    return Execution(nb, runs, problem, seconds)


KERNEL_START_ATTEMPTS = 3


def _run_client(client, env, runs, current, DeadKernelError, CellTimeoutError) -> str | None:
    """Execute with ``client``; return what stopped it early, or None."""
    problem = None
    try:
        client.execute(env={**os.environ, **(env or {})})
    except DeadKernelError:
        i = current["index"]
        runs.append(CellRun(i if i is not None else -1, "died", "DeadKernelError", "the kernel died"))
        problem = (f"the kernel died while running cell {i} (it crashed, ran out of memory or called exit); "
                   f"later cells did not run." if i is not None else "the kernel died before any cell ran.")
    except CellTimeoutError as exc:   # not expected with interrupt_on_timeout; kept as a safety net
        problem = f"execution stopped: {str(exc).splitlines()[0]}"
    except Exception as exc:   # a kernel that does not start, a broken notebook, ...
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        problem = f"execution stopped before the end: {type(exc).__name__}: {first}"
    return problem


# ---------------------------------------------------------------------------------------------- grading

@dataclass
class ExerciseGrade:
    """One exercise's grade: ``status`` is "pass", "fail", "not reached" or "manual" (no checker)."""
    label: str
    status: str
    message: str


@dataclass
class GradeReport:
    notebook: str
    grades: list[ExerciseGrade] = field(default_factory=list)
    problem: str | None = None
    seconds: float = 0.0

    @property
    def n_passed(self) -> int:
        return sum(g.status == "pass" for g in self.grades)


def _read_log(path: Path) -> dict[str, dict]:
    """The last result per label (a learner may check an exercise again after fixing it)."""
    last: dict[str, dict] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                rec = json.loads(line)
                last[str(rec["label"])] = {"passed": bool(rec["passed"]), "message": str(rec["message"])}
            except (ValueError, KeyError, TypeError):   # a line cut short by a dying kernel
                continue
    return last


def _code_spans(nb: NotebookNode, labels: Sequence[str]) -> dict[str, range]:
    """For each exercise label, the cells from its prompt up to the next exercise's prompt."""
    starts = {}
    for index, block in _markdown_blocks(nb):
        if block.name in ("exercise", "exercise-start"):
            label = block.option("label")
            if label in labels and label not in starts:
                starts[label] = index
    ordered = sorted(starts.items(), key=lambda kv: kv[1])
    spans = {}
    for k, (label, begin) in enumerate(ordered):
        end = ordered[k + 1][1] if k + 1 < len(ordered) else len(nb.cells)
        spans[label] = range(begin, end)
    return spans


def _why_not_reached(label: str, span: range | None, run: Execution) -> str:
    by_index = {r.index: r for r in run.cells}
    if span is not None:
        for i in span:
            r = by_index.get(i)
            if r is None:
                continue
            if r.status == "died":
                return f"the kernel died in cell {i}, before this exercise was checked."
            if r.status == "timeout":
                return f"cell {i} {r.evalue.removeprefix('the cell ')}; the checker never reported."
            if r.status == "error":
                if r.ename == "NotImplementedError" and r.evalue.strip("'\"") == label:
                    return "not attempted: the stub still raises NotImplementedError."
                return f"cell {i} raised {r.ename}: {r.evalue[:200]}; the checker never reported."
    died = [r for r in run.cells if r.status == "died"]
    if died and (span is None or died[0].index < span.start):
        return f"the kernel died in cell {died[0].index}, before this exercise was reached."
    if run.problem and not run.cells:
        return run.problem
    return "the checker was never called (is its check line still in the notebook?)."


def grade(path: str | Path, *, timeout: float = 120, kernel_name: str | None = None,
          startup_timeout: float = 60, executed_dir: str | Path | None = None) -> GradeReport:
    """Execute a completed student notebook and grade each of its exercises; never raises on the notebook.

    ``timeout`` is the limit per cell in seconds. ``executed_dir``, when given, receives the executed
    notebook (with its outputs) under the same name, for reading the learner's errors.
    """
    from .exercises import load_all

    path = Path(path)
    report = GradeReport(str(path))
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:
        report.problem = f"could not read the notebook: {type(exc).__name__}: {exc}"
        return report
    labels = exercise_labels(nb)
    registry = load_all()
    with tempfile.TemporaryDirectory(prefix="aecourse-grade-") as tmp:
        log = Path(tmp) / "results.jsonl"
        log.touch()
        run = execute_notebook(nb, timeout=timeout, cwd=path.resolve().parent, kernel_name=kernel_name,
                               startup_timeout=startup_timeout,
                               env={"AECOURSE_GRADE_LOG": str(log), "AECOURSE_QUIET": "1"})
        results = _read_log(log)
    report.problem, report.seconds = run.problem, run.seconds
    if executed_dir is not None:
        Path(executed_dir).mkdir(parents=True, exist_ok=True)
        nbformat.write(run.nb, Path(executed_dir) / path.name)
    spans = _code_spans(nb, labels)
    for label in labels + [k for k in results if k not in labels]:
        if label in results:
            r = results[label]
            report.grades.append(ExerciseGrade(label, "pass" if r["passed"] else "fail", r["message"]))
        elif label not in registry:
            report.grades.append(ExerciseGrade(label, "manual", "no checker: a written exercise, grade it by hand."))
        else:
            why = _why_not_reached(label, spans.get(label), run)
            status = "fail" if why.startswith("not attempted") else "not reached"
            report.grades.append(ExerciseGrade(label, status, why))
    return report


def format_report(reports: Sequence[GradeReport]) -> str:
    """The grades as a plain-text table, one block per notebook."""
    out = []
    for rep in reports:
        auto = [g for g in rep.grades if g.status != "manual"]
        out.append(f"{rep.notebook}: {rep.n_passed} of {len(auto)} checked exercises passed "
                   f"({rep.seconds:.1f} s)")
        if rep.grades:
            w = max(len("exercise"), *(len(g.label) for g in rep.grades))
            out.append(f"  {'exercise':<{w}}  {'status':<11}  message")
            out += [f"  {g.label:<{w}}  {g.status:<11}  {g.message}" for g in rep.grades]
        else:
            out.append("  (no exercises with a :label: found)")
        if rep.problem:
            out.append(f"  problem: {rep.problem}")
        out.append("")
    return "\n".join(out)


def write_csv(reports: Sequence[GradeReport], path: str | Path) -> None:
    """One row per notebook and exercise: notebook, label, status, message (and the notebook's problem)."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["notebook", "label", "status", "message", "notebook_problem"])
        for rep in reports:
            for g in rep.grades:
                w.writerow([rep.notebook, g.label, g.status, g.message, rep.problem or ""])
            if not rep.grades:
                w.writerow([rep.notebook, "", "error" if rep.problem else "no exercises", "", rep.problem or ""])


# -------------------------------------------------------------------------------------------------- CLI

def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m aecourse.instructor", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("student", help="write student copies: solutions removed, outputs cleared")
    s.add_argument("sources", nargs="+", help="the book's folder (book/) or chapter notebooks")
    s.add_argument("--out", required=True, help="folder for the student copies, e.g. student/")
    s.add_argument("--colab", metavar="OWNER/REPO[@REF]",
                   help="also print a Colab link per copy, for copies pushed to that GitHub repository "
                        "at the same path as --out relative to the current folder")
    g = sub.add_parser("grade", help="execute completed student notebooks and grade each exercise")
    g.add_argument("notebooks", nargs="+", help="completed student notebooks (.ipynb)")
    g.add_argument("--timeout", type=float, default=120, help="limit per cell in seconds (default 120)")
    g.add_argument("--csv", help="also write the grades to this CSV file")
    g.add_argument("--executed", metavar="DIR", help="also save the executed notebooks in this folder")
    g.add_argument("--kernel", help="kernel name (default: the notebook's own)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "student":
        try:
            repo = ref = out_in_repo = None
            if args.colab:   # check before writing anything
                repo, _, ref = args.colab.partition("@")
                colab_url(repo, "x.ipynb")
                out_in_repo = os.path.relpath(Path(args.out).resolve(), Path.cwd())
                if out_in_repo.startswith(".."):
                    raise ValueError(f"--colab needs --out inside the current folder (the root of the repository "
                                     f"you push), but {args.out!r} is outside it.")
            written = write_student_notebooks(args.sources, args.out)
        except (OSError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"wrote {len(written)} student notebook{'s' * (len(written) != 1)} to {args.out}")
        for dst in written:
            if repo:
                rel = Path(out_in_repo) / dst.relative_to(args.out)
                print(f"  {dst.name}: {colab_url(repo, rel, ref or 'main')}")
            else:
                print(f"  {dst}")
        return 0
    if args.timeout <= 0:
        print(f"error: --timeout {args.timeout:g} must be a positive number of seconds, e.g. --timeout 120.",
              file=sys.stderr)
        return 2
    missing = [n for n in args.notebooks if not Path(n).is_file()]
    if missing:
        print(f"error: no such notebook: {', '.join(missing)}", file=sys.stderr)
        return 2
    reports = []
    for nb in args.notebooks:
        reports.append(grade(nb, timeout=args.timeout, kernel_name=args.kernel, executed_dir=args.executed))
        print(format_report(reports[-1:]), flush=True)
    if args.csv:
        write_csv(reports, args.csv)
        print(f"grades written to {args.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
