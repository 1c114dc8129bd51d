"""On the real SmolLM2-135M-Instruct: a short DPO run (LoRA, TRL's DPOTrainer) on the shipped preference
pairs (follow the asked-for answer form: half prefer one word, half a full sentence, so no fixed habit helps)
raises the preferred-answer rate on held-out pairs about other subjects, and the card records the objective
and beta. The shortened form of examples/preferences/reproduce.py: few pairs, few
steps, so it takes a couple of minutes on a busy 2-core CPU."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_dpo_on_smollm2_raises_the_held_out_preferred_answer_rate(tmp_path):
    from adapters.base.default import ensure_default_base
    from adapters.base.fingerprint import fingerprint
    from adapters.card import read_card
    from examples.preferences.reproduce import reproduce

    base = ensure_default_base()
    found = reproduce(
        base, tmp_path / "dpo", steps=4, train_limit=16, held_limit=8, lr=3e-3, batch_size=4, progress=False
    )
    before, after = found["before"], found["after"]
    assert before.n == after.n == 8
    assert before.preferred_rate < 1.0  # the base leaves room to learn: the data is not solved already
    assert after.preferred_rate > before.preferred_rate, (before.as_dict(), after.as_dict())
    assert after.reward_margin > 0
    hub = read_card(tmp_path / "dpo").hub
    assert hub["objective"] == {"name": "dpo", "beta": 0.1}
    assert hub["base"]["fingerprint"] == fingerprint(base)
    assert hub["metrics"]["preferred_rate"] == pytest.approx(after.preferred_rate)
