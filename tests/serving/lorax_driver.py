"""Runs the unmodified ``lorax-client`` against a server, from its own package directory (``requirements-clients.lock``
installed with ``--target``): ``python lorax_driver.py URL`` reads a JSON list of calls on stdin and prints one JSON
answer per call. A separate process, because lorax-client's pins cannot share the main environment."""

from __future__ import annotations

import json
import sys

from lorax import Client
from lorax.errors import ValidationError


def main() -> None:
    client = Client(sys.argv[1], timeout=120)
    answers = []
    for call in json.loads(sys.stdin.read()):
        kw = {"adapter_id": call["adapter_id"], "adapter_source": "hub", "max_new_tokens": call["max_new_tokens"]}
        try:
            if call["op"] == "generate":
                r = client.generate(call["prompt"], details=True, **kw)
                answers.append(
                    {
                        "text": r.generated_text,
                        "generated_tokens": r.details.generated_tokens,
                        "tokens": len(r.details.tokens),
                        "finish_reason": r.details.finish_reason.value,
                    }
                )
            else:
                events = list(client.generate_stream(call["prompt"], **kw))
                answers.append(
                    {
                        "text": events[-1].generated_text,
                        "events": len(events),
                        "pieces": "".join(e.token.text for e in events if not e.token.special),
                    }
                )
        except ValidationError as exc:
            answers.append({"error": "ValidationError", "message": str(exc)})
    print(json.dumps(answers))


if __name__ == "__main__":
    main()
