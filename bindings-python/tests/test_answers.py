"""Every case of vectors/answers.jsonl through ``koosign.Merchant.verify``:
the same expectations as core/tests/answers.rs (the verified protocol,
activity, fields and key, or the error's code and the resultCode), and every
refusal carries the core's signed answer (check_response accepts it, with
the expected resultCode)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, Dict

import pytest
from answers import body_of, cases, headers_of, merchant_of, outcome, priors, store_of

import koosign

CASES = cases()


def run(c: Dict[str, Any], m: koosign.Merchant) -> Dict[str, Any]:
    try:
        v = m.verify(c["method"], c["query"], headers_of(c), body_of(c))
    except koosign.KoosignError as exc:
        body, sign = exc.refusal  # type: ignore[attr-defined]
        checked = koosign.check_response(200, [("Body-Sign", sign)], body, c["access_keys"][0])
        assert checked["result_code"] == exc.result_code == koosign.result_code(exc)  # type: ignore[attr-defined]
        assert json.loads(body)["resultCode"] == exc.result_code  # type: ignore[attr-defined]
        return {"error": exc.code, "result_code": exc.result_code}  # type: ignore[attr-defined]
    return outcome(v)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_answer_case(case: Dict[str, Any]) -> None:
    if not case["access_keys"]:
        # A merchant cannot exist without a key: the context refuses to be built (000005).
        with pytest.raises(koosign.KoosignError) as e:
            koosign.Merchant([])
        assert {"error": e.value.code, "result_code": koosign.result_code(e.value)} == case["expect"]
        return
    store = store_of(case)
    m = merchant_of(case, store)
    for p in priors(case):
        assert "error" not in run(p, m), p["id"] if "id" in p else p
    assert run(case, m) == case["expect"]


def test_every_row_of_the_answers_table_is_covered() -> None:
    rows = Counter(c["id"].split("/")[0] for c in CASES)
    assert all(rows[r] >= 3 for r in ("verified", "before-auth", "authenticated", "merchant")), rows
    assert len(CASES) >= 100
