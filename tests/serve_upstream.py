"""A tiny OpenAI-compatible upstream for fault injection (tests/test_serve.py, benchmarks/serve.py).

The request's `model` field picks the behaviour, so one app serves every fault at once:
ok (an answer the helpdesk regex accepts), 500, slow (sleeps `slow_s`), malformed (cut-off JSON),
nochoices (JSON without an answer), usage-1e20 and usage-Infinity (an answer with absurd token counts), echo-key (a 401 that quotes the Authorization header back, as some
providers do), flaky (HTTP 500 for `flaky` of the requests, chosen by a hash of the request body)."""
import asyncio, hashlib, json
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse

ANSWER = 'NETWORK - the VPN tunnel drops'


def fake_upstream(slow_s: float = 3.0, flaky: float = 0.10) -> FastAPI:
    app = FastAPI()

    @app.post('/v1/chat/completions')
    async def chat(request: Request):
        raw = await request.body()
        body = json.loads(raw)
        mode = body.get('model')
        if mode == 'slow': await asyncio.sleep(slow_s)
        if mode == '500': return JSONResponse({'error': {'message': 'overloaded'}}, status_code=500)
        if mode == 'malformed': return PlainTextResponse('{"choices": [{"message": ', media_type='application/json')
        if mode == 'nochoices': return JSONResponse({'object': 'chat.completion', 'choices': []})
        if mode in ('usage-1e20', 'usage-Infinity'):
            n = mode.split('-')[1]
            return PlainTextResponse(f'{{"choices": [{{"message": {{"content": "{ANSWER}"}}}}], "usage": {{"prompt_tokens": {n}, "completion_tokens": {n}}}}}',
                                     media_type='application/json')
        if mode == 'echo-key':
            return JSONResponse({'error': {'message': f"Incorrect API key provided: {request.headers.get('authorization')}"}}, status_code=401)
        if mode == 'flaky' and int.from_bytes(hashlib.sha256(raw).digest()[:4], 'big') / 2**32 < flaky:
            return JSONResponse({'error': {'message': 'flaky upstream'}}, status_code=500)
        return {'id': 'up-1', 'object': 'chat.completion', 'model': mode,
                'choices': [{'index': 0, 'message': {'role': 'assistant', 'content': ANSWER}, 'finish_reason': 'stop'}],
                'usage': {'prompt_tokens': 31, 'completion_tokens': 7, 'total_tokens': 38}}

    return app
