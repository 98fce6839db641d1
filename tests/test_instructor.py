"""The instructor kit (aecourse/instructor.py): student copies and grading.

On a fixture notebook in the book's exercise pattern (tests/fixtures/exercise_pattern.ipynb): no solution
text survives in the student copy and nothing else changes; the student copy, executed, fails only at its
stubs; the grader reports pass, fail with the checker's message, not reached, and survives a kernel that dies
and a cell that runs past the time limit. Then every chapter in book/: its student copy keeps no solution
code, and each coding exercise has a registered checker. Executing every chapter's student copy takes as long
as running the book; it is marked ``book`` and runs in ``make student-check`` (part of ``make test``).
"""
import ast
import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from aecourse import instructor
from aecourse.exercises import load_all

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "exercise_pattern.ipynb"
BOOK = sorted((ROOT / "book").glob("*.ipynb"))
REGISTRY = load_all()


@pytest.fixture(autouse=True)
def no_grade_log(monkeypatch):
    monkeypatch.delenv("AECOURSE_GRADE_LOG", raising=False)


def read(path):
    return nbformat.read(path, as_version=4)


# ------------------------------------------------------------------ an independent view of the solutions

def solution_regions(nb):
    """Indices of the cells from each ``{solution-start}`` cell through its ``{solution-end}`` cell (a plain
    scan, written independently of the generator)."""
    inside, cells = False, set()
    for i, cell in enumerate(nb.cells):
        src = cell.source if cell.cell_type == "markdown" else ""
        if "{solution-start}" in src:
            inside = True
        if inside:
            cells.add(i)
        if "{solution-end}" in src:
            inside = False
    return cells


def stubbed_exercises(nb):
    """Labels of the coding exercises: a prompt followed by a stub (a code cell tagged raises-exception)
    before the next markdown cell. Written and exploratory exercises have no stub, and need no checker."""
    stubbed, label = set(), None
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            found = re.findall(r"\{exercise(?:-start)?\}[^\n]*\n(?:[ \t]*:[\w-]+:[^\n]*\n)*?[ \t]*:label:[ \t]*(\S+)",
                               cell.source)
            label = found[-1] if found else None
        elif label is not None and "raises-exception" in cell.metadata.get("tags", []):
            stubbed.add(label)
    return stubbed


def _lines(text):
    return {line.strip() for line in text.splitlines() if line.strip()}


def solution_only_lines(nb):
    """Lines of solution code that appear nowhere else in the notebook (so must not be in the student copy)."""
    regions = solution_regions(nb)
    inside = set().union(*[_lines(c.source) for i, c in enumerate(nb.cells) if i in regions and
                           c.cell_type == "code"] or [set()])
    outside = set().union(*[_lines(c.source) for i, c in enumerate(nb.cells) if i not in regions] or [set()])
    return {line for line in inside - outside if not line.startswith("#")}


def assert_no_solution_survives(original, student):
    text = "\n".join(c.source for c in student.cells)
    assert "{solution" not in text, "a solution directive survived"
    survivors = [line for line in solution_only_lines(original) if line in _lines(text)]
    assert not survivors, f"solution code survived in the student copy: {survivors}"


def _python(source):
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return ast.parse(TransformerManager().transform_cell(source))
    except SyntaxError:
        return None


def _top_level_names(tree):
    """Names a cell defines at module level (what a later cell could use)."""
    names = set()

    def visit(node):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            return
        if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return names


def _all_bound_names(tree):
    names = _top_level_names(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
    return names


def names_used_from_solutions(nb):
    """(cell index, name) where a cell outside the solutions uses a name only a solution defines."""
    regions = solution_regions(nb)
    trees = {i: _python(c.source) for i, c in enumerate(nb.cells) if c.cell_type == "code"}
    defined_outside = set().union(*[_all_bound_names(t) for i, t in trees.items() if t and i not in regions]
                                  or [set()])
    problems, only_in_solutions = [], set()
    for i, tree in sorted(trees.items()):
        if tree is None:
            continue
        if i in regions:
            only_in_solutions |= _top_level_names(tree) - defined_outside
            continue
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        problems += [(i, name) for name in sorted(used & only_in_solutions)]
    return problems


# --------------------------------------------------------------------------------- student copies: fixture

def test_fixture_is_in_the_books_pattern():
    nb = read(FIXTURE)
    assert instructor.exercise_labels(nb) == ["ex-recon-mse", "ex-identity-weights", "ex-fixture-written"]
    assert instructor.stub_labels(nb) == ["ex-recon-mse", "ex-identity-weights"]
    assert instructor.solution_labels(nb) == ["ex-recon-mse", "ex-identity-weights", "ex-fixture-written"]
    assert {"ex-recon-mse", "ex-identity-weights"} <= set(REGISTRY)
    assert stubbed_exercises(nb) == {"ex-recon-mse", "ex-identity-weights"}


def test_student_copy_removes_every_solution_and_changes_nothing_else():
    nb = read(FIXTURE)
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", text="stale output")]
    nb.cells[2].execution_count = 7
    student = instructor.student_notebook(nb)
    raw = nbformat.writes(student)
    assert "FIXTURE_SOLUTION" not in raw and "_copy_block" not in raw
    assert_no_solution_survives(nb, student)

    regions = solution_regions(nb)
    assert regions == {5, 6, 7, 11, 12, 13, 14}
    kept = [c for i, c in enumerate(nb.cells) if i not in regions] + [nb.cells[14]]
    kept.sort(key=lambda c: nb.cells.index(c))
    assert [c.id for c in student.cells] == [c.id for c in kept]
    for before, after in zip(kept, student.cells):
        assert after.cell_type == before.cell_type and after.metadata == before.metadata
        if after.cell_type == "code":
            assert after.source == before.source
            assert after.outputs == [] and after.execution_count is None
    # Text around a directive stays: after a {solution-end}, and an exercise sharing a cell with a {solution}.
    by_id = {c.id: c for c in student.cells}
    assert by_id[nb.cells[14].id].source == "Text after the solution stays in the student copy."
    written = by_id[nb.cells[15].id].source
    assert written.startswith("````{exercise} Why copying is useless") and written.endswith("````")
    assert "ex-fixture-written" in written and "{solution}" not in written
    # The stubs and the prompts are untouched.
    assert instructor.stub_labels(student) == instructor.stub_labels(nb)
    assert instructor.exercise_labels(student) == instructor.exercise_labels(nb)
    assert instructor.solution_labels(student) == []
    assert student.metadata == nb.metadata and nb.cells[2].execution_count == 7   # the source is not modified


def test_student_copy_of_a_student_copy_is_the_same():
    once = instructor.student_notebook(read(FIXTURE))
    assert instructor.student_notebook(once) == once


@pytest.mark.parametrize("cells, match", [
    (["```{solution-start} ex-a\n:class: dropdown\n```", "x = 1"], "never closed"),
    (["x = 1", "```{solution-end}\n```"], "without a \\{solution-start\\}"),
    (["```{solution-start} ex-a\n```", "```{solution-start} ex-b\n```", "```{solution-end}\n```"],
     "is not closed yet"),
])
def test_unpaired_solution_markers_are_refused(cells, match):
    nb = new_notebook(cells=[new_markdown_cell(c) if c.startswith("`") else new_code_cell(c) for c in cells])
    with pytest.raises(ValueError, match=match):
        instructor.student_notebook(nb, name="broken.ipynb")


def test_solution_blocks_and_code_fences_in_markdown():
    md = ("Before.\n\n"
          ":::{solution} ex-a\n:class: dropdown\nSecret colon text.\n:::\n\n"
          "````{solution} ex-b\n```python\nsecret_code()\n```\n```{note}\nnested\n```\n````\n"
          "```python\n# a plain code fence mentioning {solution} stays\n```\n"
          "After.")
    nb = new_notebook(cells=[new_markdown_cell(md), new_markdown_cell("```{solution} ex-c\nonly this\n```")])
    student = instructor.student_notebook(nb)
    assert len(student.cells) == 1   # the cell holding only a solution is dropped
    text = student.cells[0].source
    assert "Secret" not in text and "secret_code" not in text and "nested" not in text
    assert text.startswith("Before.") and text.endswith("After.") and "a plain code fence" in text


def test_exercise_labels_from_options_and_yaml_headers():
    nb = new_notebook(cells=[
        new_markdown_cell("```{exercise} A\n:label: ex-a\n:class: hard\n\nDo A.\n```"),
        new_markdown_cell(":::{exercise-start}\n---\nlabel: ex-b\n---\n:::\nDo B.\n:::{exercise-end}\n:::"),
        new_markdown_cell("```{exercise} No label\nNot gradable.\n```"),
        new_markdown_cell("```python\n# ```{exercise} in code\n```"),
    ])
    assert instructor.exercise_labels(nb) == ["ex-a", "ex-b"]


def test_write_student_notebooks_from_a_folder(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    nbformat.write(read(FIXTURE), book / "chapter.ipynb")
    written = instructor.write_student_notebooks([book], tmp_path / "student")
    assert written == [tmp_path / "student" / "chapter.ipynb"]
    assert "FIXTURE_SOLUTION" not in written[0].read_text()
    with pytest.raises(ValueError, match="would overwrite the source"):
        instructor.write_student_notebooks([book], book)
    with pytest.raises(FileNotFoundError, match="neither a notebook"):
        instructor.write_student_notebooks([tmp_path / "missing.ipynb"], tmp_path / "out")


def test_colab_url():
    assert instructor.colab_url("school/ae-course", "student/ch1.ipynb", "fall-2026") == \
        "https://colab.research.google.com/github/school/ae-course/blob/fall-2026/student/ch1.ipynb"
    with pytest.raises(ValueError, match="owner/name"):
        instructor.colab_url("https://github.com/school/ae-course", "x.ipynb")


def test_student_command_writes_copies_and_prints_colab_links(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = instructor.main(["student", str(FIXTURE), "--out", "student", "--colab", "school/ae-course@fall"])
    assert code == 0 and (tmp_path / "student" / "exercise_pattern.ipynb").exists()
    assert ("https://colab.research.google.com/github/school/ae-course/blob/fall/student/exercise_pattern.ipynb"
            in capsys.readouterr().out)


@pytest.mark.parametrize("args, match", [
    (["student", "nope.ipynb", "--out", "student"], "neither a notebook"),
    (["student", str(FIXTURE), "--out", str(FIXTURE.parent)], "would overwrite the source"),
    (["student", str(FIXTURE), "--out", "/tmp/elsewhere", "--colab", "school/ae-course"], "inside the current"),
    (["student", str(FIXTURE), "--out", "student", "--colab", "ae-course"], "owner/name"),
    (["grade", "missing.ipynb"], "no such notebook"),
    (["grade", str(FIXTURE), "--timeout", "0"], "must be a positive number"),
])
def test_commands_refuse_bad_input_with_a_message(args, match, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert instructor.main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and re.search(match, err)
    assert not (tmp_path / "student").exists()   # nothing written on refusal


# ------------------------------------------------------------------------------ executing the student copy

def stub_cells(nb):
    """The exercise stubs: code cells tagged raises-exception (a function stub raises NotImplementedError
    with its label; a value stub passes a placeholder such as None to its checker)."""
    return {i for i, c in enumerate(nb.cells)
            if c.cell_type == "code" and "raises-exception" in c.metadata.get("tags", [])}


def assert_fails_only_at_stubs(student, run):
    assert run.problem is None, run.problem
    stubs = stub_cells(student)
    failing = {r.index for r in run.errors}
    assert failing <= stubs, [(r.index, r.ename, r.evalue) for r in run.errors if r.index not in stubs]
    for r in run.errors:
        assert r.ename in ("ExerciseFailed", "NotImplementedError"), (r.index, r.ename, r.evalue)
    return failing


def test_student_copy_executed_fails_only_at_its_stubs():
    student = instructor.student_notebook(read(FIXTURE))
    run = instructor.execute_notebook(student, timeout=120, cwd=FIXTURE.parent)
    failing = assert_fails_only_at_stubs(student, run)
    assert failing == stub_cells(student)   # every stub fails, saying it is not attempted yet
    assert all("not attempted yet" in r.evalue for r in run.errors)
    assert any("0.01" in "".join(o.get("text", "") for o in c.get("outputs", [])) for c in run.nb.cells)


# ------------------------------------------------------------------------------------------------- grading

def _fill(student, answers):
    """A learner's completed copy: each stub cell replaced by the given code."""
    nb = instructor.student_notebook(student)
    for cell in nb.cells:
        m = instructor._STUB.search(cell.source) if cell.cell_type == "code" else None
        if m and m.group("label") in answers:
            cell.source = answers[m.group("label")]
    return nb


RMSE = """def reconstruction_mse(X, X_hat):
    return float(((X - X_hat) ** 2).mean() ** 0.5)

basics.check_reconstruction_mse(reconstruction_mse)"""

IDENTITY = """def identity_weights(n, p):
    return np.eye(p, n), np.eye(n, p)

basics.check_identity_weights(identity_weights)"""


def test_grade_command_reports_pass_fail_and_manual_as_table_and_csv(tmp_path):
    nb = _fill(read(FIXTURE), {"ex-recon-mse": RMSE, "ex-identity-weights": IDENTITY})
    path = tmp_path / "alice.ipynb"
    nbformat.write(nb, path)
    proc = subprocess.run([sys.executable, "-m", "aecourse.instructor", "grade", str(path), "--timeout", "120",
                           "--csv", str(tmp_path / "grades.csv"), "--executed", str(tmp_path / "executed")],
                          capture_output=True, text=True, env={**os.environ, "AECOURSE_GRADE_LOG": ""})
    assert proc.returncode == 0, proc.stderr
    rows = {r["label"]: r for r in csv.DictReader(open(tmp_path / "grades.csv", encoding="utf-8"))}
    assert list(rows) == ["ex-recon-mse", "ex-identity-weights", "ex-fixture-written"]
    assert rows["ex-recon-mse"]["status"] == "fail"
    assert "root mean squared error" in rows["ex-recon-mse"]["message"]
    assert rows["ex-identity-weights"]["status"] == "pass"
    assert "reconstructs every input" in rows["ex-identity-weights"]["message"]
    assert rows["ex-fixture-written"]["status"] == "manual"
    assert all(r["notebook"] == str(path) and r["notebook_problem"] == "" for r in rows.values())
    assert "1 of 2 checked exercises passed" in proc.stdout
    assert re.search(r"ex-recon-mse\s+fail\s+values differ", proc.stdout)
    assert (tmp_path / "executed" / "alice.ipynb").exists()


def test_grade_keeps_the_last_result_of_an_exercise(tmp_path):
    nb = _fill(read(FIXTURE), {"ex-recon-mse": RMSE + "\n", "ex-identity-weights": IDENTITY})
    fixed = RMSE.replace(" ** 0.5", "")
    nb.cells.insert(5, new_code_cell(fixed))   # the learner fixed it in a later cell
    path = tmp_path / "bob.ipynb"
    nbformat.write(nb, path)
    report = instructor.grade(path, timeout=120)
    assert [(g.label, g.status) for g in report.grades] == [
        ("ex-recon-mse", "pass"), ("ex-identity-weights", "pass"), ("ex-fixture-written", "manual")]
    assert report.problem is None and report.n_passed == 2


def _prompt(label):
    return new_markdown_cell(f"```{{exercise}} {label}\n:label: {label}\n\nDo it.\n```")


def test_grade_reports_a_kernel_that_dies(tmp_path):
    nb = new_notebook(cells=[_prompt("ex-recon-mse"), new_code_cell("import os\nos._exit(1)"),
                             _prompt("ex-identity-weights"), new_code_cell("print('never')")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "dies.ipynb"
    nbformat.write(nb, path)
    report = instructor.grade(path, timeout=60)
    assert "kernel died while running cell 1" in report.problem
    assert [(g.label, g.status) for g in report.grades] == [("ex-recon-mse", "not reached"),
                                                            ("ex-identity-weights", "not reached")]
    assert "kernel died in cell 1" in report.grades[0].message
    assert "kernel died in cell 1" in report.grades[1].message
    table = instructor.format_report([report])
    assert "0 of 2 checked exercises passed" in table and "problem: the kernel died" in table


def test_grade_interrupts_a_cell_past_the_time_limit_and_goes_on(tmp_path):
    nb = new_notebook(cells=[
        _prompt("ex-recon-mse"), new_code_cell("import time\ntime.sleep(120)"), new_code_cell("print('after')"),
        _prompt("ex-identity-weights"), new_code_cell('raise NotImplementedError("ex-identity-weights")')])
    path = tmp_path / "slow.ipynb"
    nbformat.write(nb, path)
    report = instructor.grade(path, timeout=3, executed_dir=tmp_path / "executed")
    assert report.seconds < 60
    assert "cell 1 ran past the time limit of 3 s" in report.problem
    grades = {g.label: g for g in report.grades}
    assert grades["ex-recon-mse"].status == "not reached"
    assert "time limit of 3 s" in grades["ex-recon-mse"].message
    assert grades["ex-identity-weights"].status == "fail"   # reached after the interrupt: not attempted
    assert "not attempted" in grades["ex-identity-weights"].message
    executed = read(tmp_path / "executed" / "slow.ipynb")
    assert "after" in "".join(o.get("text", "") for o in executed.cells[2].outputs)


def test_grade_reports_an_unreadable_notebook_and_writes_csv(tmp_path):
    path = tmp_path / "broken.ipynb"
    path.write_text("{ not json")
    report = instructor.grade(path)
    assert report.problem.startswith("could not read the notebook") and report.grades == []
    instructor.write_csv([report], tmp_path / "g.csv")
    rows = list(csv.DictReader(open(tmp_path / "g.csv", encoding="utf-8")))
    assert rows[0]["status"] == "error" and rows[0]["notebook_problem"].startswith("could not read")


# ------------------------------------------------------------------------------------- the book's chapters

@pytest.mark.parametrize("path", BOOK, ids=lambda p: p.stem)
def test_book_student_copy_keeps_no_solution_code(path):
    nb = read(path)
    student = instructor.student_notebook(nb, name=path.name)
    assert_no_solution_survives(nb, student)
    assert instructor.exercise_labels(student) == instructor.exercise_labels(nb)
    assert instructor.stub_labels(student) == instructor.stub_labels(nb)


@pytest.mark.parametrize("path", BOOK, ids=lambda p: p.stem)
def test_book_exercises_have_registered_checkers(path):
    nb = read(path)
    labels, stubs = instructor.exercise_labels(nb), instructor.stub_labels(nb)
    assert not set(stubs) - set(labels), f"stubs without an {{exercise}} of that :label:: {set(stubs) - set(labels)}"
    assert not set(instructor.solution_labels(nb)) - set(labels), "a solution names an unknown exercise label"
    missing = sorted((set(stubs) | stubbed_exercises(nb)) - set(REGISTRY))
    assert not missing, f"coding exercises (with a stub) without a registered checker: {missing}"
    assert len(labels) >= 3, f"{path.name}: {len(labels)} labelled exercises; a chapter has at least three"
    checked = [lab for lab in labels if lab in REGISTRY]
    assert len(checked) >= 2, f"{path.name}: exercises with a checker: {checked}; a chapter has at least two"


@pytest.mark.parametrize("path", BOOK, ids=lambda p: p.stem)
def test_book_later_cells_do_not_need_a_solution(path):
    problems = names_used_from_solutions(read(path))
    assert not problems, (f"{path.name}: these cells use names that only a solution defines, so the student "
                          f"copy breaks there (cell, name): {problems}")


def test_the_static_check_finds_a_name_defined_only_in_a_solution():
    nb = read(FIXTURE)
    assert names_used_from_solutions(nb) == []
    nb.cells.append(new_code_cell("print(_copy_block(2, 3))"))
    assert names_used_from_solutions(nb) == [(len(nb.cells) - 1, "_copy_block")]


@pytest.mark.book
@pytest.mark.parametrize("path", BOOK, ids=lambda p: p.stem)
def test_book_student_copy_executed_fails_only_at_its_stubs(path):
    student = instructor.student_notebook(read(path), name=path.name)
    run = instructor.execute_notebook(student, timeout=600, cwd=path.parent)
    assert_fails_only_at_stubs(student, run)


def test_a_kernel_that_fails_to_start_is_started_again(monkeypatch):
    """Two kernels started at once can be given the same port; the one that loses dies before any cell
    runs. That failure is retried (the notebook's own cells never run twice)."""
    import nbclient

    calls = {"n": 0}
    original = nbclient.NotebookClient.execute

    def flaky(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("Kernel didn't respond in 60 seconds")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(nbclient.NotebookClient, "execute", flaky)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("x + 1")])
    run = instructor.execute_notebook(nb, timeout=60)
    assert calls["n"] == 2
    assert run.problem is None and [c.status for c in run.cells] == ["ok", "ok"]


def test_a_kernel_that_never_starts_is_reported_after_a_few_tries(monkeypatch):
    import nbclient

    calls = {"n": 0}

    def broken(self, *args, **kwargs):
        calls["n"] += 1
        raise RuntimeError("Kernel didn't respond in 60 seconds")

    monkeypatch.setattr(nbclient.NotebookClient, "execute", broken)
    run = instructor.execute_notebook(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]))
    assert calls["n"] == instructor.KERNEL_START_ATTEMPTS
    assert "Kernel didn't respond" in run.problem
