"""How one request picks its next token and turns its tokens into text: greedy or seeded sampling with
temperature and top-p, log-probabilities, stop strings, and text deltas that never split a stop string
or a multi-byte character.

Why apart from the scheduler: every row of a batch samples with its own parameters and its own seeded
generator, so a request's output does not depend on what else shares its batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass(frozen=True)
class SamplingParams:
    max_tokens: int = 16
    temperature: float = 1.0  # 0: greedy
    top_p: float = 1.0
    seed: int | None = None
    stop: tuple[str, ...] = ()
    logprobs: int | None = None  # None: none; k >= 0: the chosen token's plus the k most likely

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0.0


@dataclass
class Choice:
    token: int
    logprob: float | None = None
    top: list[tuple[int, float]] = field(default_factory=list)


def generator_for(params: SamplingParams, device: torch.device | str = "cpu") -> torch.Generator | None:
    if params.greedy:
        return None
    gen = torch.Generator(device=device)
    if params.seed is not None:
        gen.manual_seed(int(params.seed))
    else:
        gen.seed()
    return gen


def choose(logits: torch.Tensor, params: SamplingParams, gen: torch.Generator | None) -> Choice:
    """The next token for one row's ``logits`` (vocab,)."""
    logits = logits.float()
    if params.greedy:
        token = int(logits.argmax())
    else:
        probs = torch.softmax(logits / params.temperature, dim=-1)
        if params.top_p < 1.0:
            sorted_probs, order = probs.sort(descending=True)
            keep = sorted_probs.cumsum(-1) - sorted_probs < params.top_p  # always keeps the most likely
            probs = torch.zeros_like(probs).scatter(0, order[keep], sorted_probs[keep])
        token = int(torch.multinomial(probs, 1, generator=gen))
    if params.logprobs is None:
        return Choice(token)
    logp = torch.log_softmax(logits, dim=-1)
    top = []
    if params.logprobs > 0:
        values, ids = logp.topk(min(params.logprobs, logp.numel()))
        top = [(int(i), float(v)) for i, v in zip(ids, values, strict=False)]
    return Choice(token, float(logp[token]), top)


class TextTracker:
    """The text of the tokens so far, the part already sent, and where a stop string ended it."""

    def __init__(self, tokenizer, stop: tuple[str, ...]):
        self.tokenizer = tokenizer
        self.stop = tuple(s for s in stop if s)
        self.ids: list[int] = []
        self.text = ""
        self.sent = 0
        self.stopped = False

    def add(self, token: int) -> str:
        """Append a token; returns the new text that is safe to send now."""
        self.ids.append(token)
        self.text = self.tokenizer.decode(self.ids, skip_special_tokens=True)
        for s in self.stop:
            at = self.text.find(s)
            if at >= 0:
                self.text, self.stopped = self.text[:at], True
        if self.stopped:
            return self.flush()
        hold = max((len(s) - 1 for s in self.stop), default=0)
        end = len(self.text) - hold
        while end > self.sent and self.text[end - 1] == "\ufffd":  # half of a multi-byte character
            end -= 1
        return self._take(end)

    def flush(self) -> str:
        return self._take(len(self.text))

    def _take(self, end: int) -> str:
        if end <= self.sent:
            return ""
        piece, self.sent = self.text[self.sent : end], end
        return piece
