"""The endpoints: each checks its limits, hands the model work to the service's pools and shapes the answer.

``/v1/*`` need the bearer token when one is set (see :mod:`affectlab.serve.auth`); ``/healthz`` does not.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import HTTPBearer

from affectlab.dialogue import InvalidConversation
from affectlab.dialogue.turns import check_emotion
from affectlab.empathy.responder import check_strategy
from affectlab.errors import OptionError
from affectlab.registry import shipped
from affectlab.serve import schemas
from affectlab.serve.answers import JsonAnswer, fields_of
from affectlab.serve.errors import ApiError
from affectlab.serve.service import Service
from affectlab.version import __version__

# documents the scheme in /openapi.json; the check itself is the Access middleware's, so that it covers every path
api = APIRouter(prefix="/v1", dependencies=[Depends(HTTPBearer(auto_error=False))])
public = APIRouter()


async def current_service(request: Request) -> Service:
    return request.app.state.service  # async: FastAPI would run a plain function on a thread, for every request


ServiceDep = Annotated[Service, Depends(current_service)]


def _turns(turns: list[schemas.TurnIn], service: Service) -> list[dict]:
    limit = service.settings.max_turns
    if len(turns) > limit:
        raise ApiError(413, "too_large", f"at most {limit} turns per conversation, got {len(turns)}", field="turns")
    if not turns:
        raise ApiError(422, "invalid_request", "the conversation has no turns", field="turns")
    return [turn.model_dump() for turn in turns]


@api.post("/analyze", response_model=schemas.AnalyzeResult | schemas.AnalyzeBatch)
async def analyze(body: schemas.AnalyzeRequest, service: ServiceDep) -> JsonAnswer:
    """The affect of one ``text`` (its fields at the top level) or of a batch of ``texts`` (``results``, in
    order; a row that cannot be analyzed gets its ``error`` and the others are scored as usual)."""
    if (body.text is None) == (body.texts is None):
        raise ApiError(422, "invalid_request", "give either text (one) or texts (a batch), not both or neither",
                       field="text")
    texts = [body.text] if body.text is not None else body.texts
    limit = service.settings.max_batch
    if len(texts) > limit:
        raise ApiError(413, "too_large", f"at most {limit} texts per request, got {len(texts)}", field="texts")
    if not texts:
        raise ApiError(422, "invalid_request", "texts is empty", field="texts")
    results = await service.batcher(body.explain).submit(texts, service.settings.request_timeout_s)
    head = {"schema_version": schemas.SCHEMA_VERSION, "model": service.models.text.model_name}
    if body.text is None:
        return JsonAnswer({**head, "results": [fields_of(r) for r in results]})
    if results[0].error is not None:
        raise ApiError(422, "invalid_text", results[0].error, field="text")
    return JsonAnswer({**head, **fields_of(results[0])})


@api.post("/conversation", response_model=schemas.ConversationResult)
async def conversation(body: schemas.ConversationRequest, service: ServiceDep) -> dict:
    """Each turn's Ekman-7 emotion in context and, unless ``causes`` is false, the turns and spans that cause
    every non-neutral one."""
    models = service.models.conversation
    affect = await service.pool.run(models.analyze, _turns(body.turns, service), body.causes,
                                    timeout=service.settings.request_timeout_s)
    return {"schema_version": schemas.SCHEMA_VERSION, "model": models.turns_model.config.name,
            "cause_model": models.causes_model.config.name if body.causes else None, **affect.to_dict()}


@api.post("/causes", response_model=schemas.CausesResult)
async def causes(body: schemas.CausesRequest, service: ServiceDep) -> dict:
    """RECCON's task: the turns (up to and including ``target``) that cause its ``emotion``, with spans."""
    turns = _turns(body.turns, service)
    if body.target >= len(turns):
        raise ApiError(422, "invalid_request", f"target {body.target} is past the last turn ({len(turns) - 1})",
                       field="target")
    if body.emotion is not None:
        try:
            check_emotion(body.emotion)
        except InvalidConversation as exc:
            raise ApiError(422, "invalid_request", str(exc), field="emotion") from None
    models = service.models.conversation
    found = await service.pool.run(models.causes, turns, body.target, body.emotion,
                                   timeout=service.settings.request_timeout_s)
    return {"schema_version": schemas.SCHEMA_VERSION, "model": models.causes_model.config.name,
            "target": body.target, "emotion": body.emotion, "causes": [c.to_dict() for c in found]}


@api.post("/respond", response_model=schemas.RespondResult,
          responses={503: {"description": "the responder's language model is not installed or did not load"}})
async def respond(body: schemas.RespondRequest, service: ServiceDep) -> dict:
    """The listener's next line from the empathetic responder (the packaged language model, guided by the
    emotion and cause models). Its model loads on the first request; replies are generated one at a time."""
    try:
        check_strategy(body.strategy)
    except OptionError as exc:
        raise ApiError(422, "invalid_request", str(exc), field="strategy") from None
    responder = service.models.responder
    reply = await service.llm_pool.run(responder.respond, _turns(body.turns, service), body.strategy, body.listener,
                                       timeout=service.settings.respond_timeout_s)
    return {"schema_version": schemas.SCHEMA_VERSION, "model": responder.model, **reply.to_dict()}


@api.get("/models", response_model=schemas.ModelsResult)
async def models(service: ServiceDep) -> dict:
    """The model behind each endpoint, and the shipped models installed here (no server paths)."""
    loaded = service.models
    serving = {"text": loaded.text.model_name, "turn-emotions": loaded.conversation.turns_model.config.name,
               "causes": loaded.conversation.causes_model.config.name, "responder": loaded.responder.model}
    return {"schema_version": schemas.SCHEMA_VERSION, "serving": serving, "responder": loaded.responder.state,
            "shipped": [{k: v for k, v in info.to_dict().items() if k not in ("folder", "card")} for info in shipped()]}


@public.get("/healthz", response_model=schemas.Health)
async def healthz(service: ServiceDep) -> dict:
    """Liveness: answers as soon as the models have loaded, with the number of requests queued."""
    return {"status": "ok", "version": __version__, "waiting": service.waiting}
