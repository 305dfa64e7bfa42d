#!/usr/bin/env python3
"""Writes docs/ERRORS.md: one row per core error (`koosign::Error`), with its
`code`, the Python exception, the JS class, the C status and the resultCode
it answers before and after authentication (docs/SCHEMES.md §Answers).

One source each, read from the code itself, never restated by hand:

* the variants, in order, and their codes: core/src/error.rs (`Error::code`);
* the resultCode table: core/src/answer.rs (`result_code`);
* Python: bindings-python/src/lib.rs (`fn err`, the one translation);
* JS: bindings-wasm/js/index.js (`define('<Class>', '<CODE>', ...)`);
* C: bindings-c/src/status.rs (`impl From<ks::Error> for koosign_status` and
  the enum's values).

core/tests/errors_doc.rs also checks the generated rows against the real
`Error::ALL`, `Error::code` and `answer::result_code`.

    python3 scripts/gen-errors.py           # write docs/ERRORS.md
    python3 scripts/gen-errors.py --check   # exit 1 unless docs/ERRORS.md is what this writes
"""

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "docs" / "ERRORS.md"


def read(p):
    return (REPO / p).read_text(encoding="utf-8")


def block(text, start):
    """The text of the brace block that follows `start`."""
    i = text.index(start)
    i = text.index("{", i)
    depth = 0
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i + 1:j]
    raise ValueError(f"unclosed block after {start!r}")


def arms(match_text, rhs):
    """[(variants on the left, the captured right side)] of the match arms
    whose right side matches the regex `rhs` (a `_` arm gives ['_'])."""
    out = []
    parts = re.split(r"=>\s*" + rhs, match_text)
    # re.split with one group: [left0, cap0, left1, cap1, ..., rest]
    for k in range(0, len(parts) - 1, 2):
        left = parts[k]
        # Only the arm's own patterns: after the previous arm's end.
        left = re.split(r",\s*\n", left)[-1]
        variants = re.findall(r"Error::(\w+)", left)
        if not variants and re.search(r"(^|\s)_\s*$", left):
            variants = ["_"]
        out.append((variants, parts[k + 1]))
    return out


def core_errors():
    text = read("core/src/error.rs")
    enum = block(text, "pub enum Error")
    variants = re.findall(r"^\s{4}(\w+)(\([^)]*\)|\s*\{[^}]*\})?,", enum, re.M)
    order = [v for v, _ in variants]
    code_fn = block(text, "pub const fn code(&self)")
    codes = {}
    for m in re.finditer(r"Error::(\w+)(\([^)]*\)|\s*\{[^}]*\})?\s*=>\s*\"([A-Z_]+)\"", code_fn):
        codes[m.group(1)] = (m.group(1) + (m.group(2) or "").strip().replace("{ .. }", " { .. }"), m.group(3))
    missing = [v for v in order if v not in codes]
    if missing:
        raise SystemExit(f"error.rs: no code for {missing}")
    return order, codes


def result_codes():
    text = read("core/src/answer.rs")
    body = block(text, "pub const fn result_code(")
    table = {}
    for variants, rhs in arms(body, r"(ResultCode::\w+|match stage)"):
        if not variants:
            continue  # the arms of the inner `match stage`
        if rhs == "match stage":
            value = ("000001", "000002")
        elif rhs == "ResultCode::MerchantFailure":
            value = ("000005", "000005")
        else:
            raise SystemExit(f"answer.rs: unexpected arm {rhs}")
        for v in variants:
            table[v] = value
    return table


def python_classes():
    text = read("bindings-python/src/lib.rs")
    body = block(text, "fn err(py: Python<'_>, e: Error) -> PyErr")
    table = {}
    for variants, cls in arms(body, r"(\w+)::new_err"):
        for v in variants:
            table[v] = cls
    return table


def js_classes():
    text = read("bindings-wasm/js/index.js")
    return {code: cls for cls, code in re.findall(r"define\('(\w+)',\s*'([A-Z_]+)'", text)}


def c_statuses():
    text = read("bindings-c/src/status.rs")
    values = dict(re.findall(r"^\s*(KOOSIGN_\w+)\s*=\s*(\d+),", text, re.M))
    body = block(text, "impl From<ks::Error> for koosign_status")
    table = {}
    for m in re.finditer(r"ks::Error::(\w+)[^=]*=>\s*(KOOSIGN_\w+)", body):
        table[m.group(1)] = m.group(2)
    default = re.search(r"_\s*=>\s*(KOOSIGN_\w+)", body)
    return table, values, default.group(1) if default else None


def render():
    order, codes = core_errors()
    rc = result_codes()
    py = python_classes()
    js = js_classes()
    c, c_values, c_default = c_statuses()
    rows = []
    problems = []
    for v in order:
        shape, code = codes[v]
        p = py.get(v) or py.get("_")
        j = js.get(code)
        cs = c.get(v) or c_default
        r = rc.get(v)
        if not (p and j and cs and r):
            problems.append(f"{v}: python={p} js={j} c={cs} resultCode={r}")
            continue
        p_text = f"`koosign.{p}`" + (" (the base class; tell it apart by `code`)" if p == "KoosignError" else "")
        rows.append(f"| `{shape}` | `{code}` | {p_text} | `{j}` | `{cs}` ({c_values.get(cs, '?')}) | `{r[0]}` | `{r[1]}` |")
    if problems:
        raise SystemExit("a core error has no row in a binding's table:\n  " + "\n  ".join(problems))
    head = """# Errors

<!-- Written by scripts/gen-errors.py from the sources; do not edit. Checked by
     `python3 scripts/gen-errors.py --check` (scripts/check-tree.sh) and by
     core/tests/errors_doc.rs. -->

One row per variant of the core's `koosign::Error`, in declaration order:
its stable `code` (`Error::code()`, also the JS error's `code` and the
Python exception's `code` attribute), what each binding raises or returns,
and the `resultCode` a merchant endpoint answers for it
(`koosign::answer::result_code`, docs/SCHEMES.md §Answers): *before* the
request is authenticated (a verifier or the protocol detection refused it)
and *after* (the verified notification's body or parameters are unusable).
Python exceptions are in the `koosign` module and all derive from
`koosign.KoosignError`; JS classes are exported by the `koosign` package and
derive from `KoosignError`; C statuses are `enum koosign_status` values of
`koosign.h`.

| Rust (`koosign::Error`) | code | Python | JS | C (value) | before auth | after auth |
|---|---|---|---|---|---|---|
"""
    tail = """
The C layer has statuses of its own besides the core's (`KOOSIGN_NULL_PARAMETER`,
`KOOSIGN_INVALID_UTF8`, `KOOSIGN_INVALID_ARGUMENT`, `KOOSIGN_PANIC`,
`KOOSIGN_UNKNOWN_ERROR`): see `koosign.h`.
"""
    return head + "\n".join(rows) + "\n" + tail


def main(argv):
    text = render()
    if argv[1:] == ["--check"]:
        if OUT.exists() and OUT.read_text(encoding="utf-8") == text:
            print("docs/ERRORS.md: regenerated from the sources, identical")
            return 0
        print("docs/ERRORS.md differs from what scripts/gen-errors.py writes (run: python3 scripts/gen-errors.py)",
              file=sys.stderr)
        return 1
    if argv[1:]:
        print("usage: scripts/gen-errors.py [--check]", file=sys.stderr)
        return 2
    OUT.write_text(text, encoding="utf-8")
    print("wrote docs/ERRORS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
