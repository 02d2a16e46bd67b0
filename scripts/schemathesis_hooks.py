"""schemathesis hooks of scripts/schemathesis.sh (loaded through SCHEMATHESIS_HOOKS)."""

import json

import schemathesis

# web/src/web.rs MAX_BODY: a JSON body over 16 KiB is 400 `body_too_large` (docs/openapi.json,
# Conventions). JSON Schema cannot state a byte count of the whole body, and schemathesis sends
# every non-ASCII character as a `\uXXXX` escape (6 bytes), so a comment of 4,000 characters
# (CommentRequest.body's maxLength) can be three times over it. Such bodies are not generated.
MAX_BODY = 16 * 1024


@schemathesis.hook
def filter_body(context, body):
    try:
        size = len(json.dumps(body).encode())
    except (TypeError, ValueError):
        return True
    return size <= MAX_BODY
