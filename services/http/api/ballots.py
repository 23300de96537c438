"""Ballots, votes and comments."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from litestar import Controller, Response, get, post, put
from litestar.datastructures import State
from litestar.params import QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from schemas import api
from services.http.api.deps import Idempotency
from services.rules.actors import Principal
from services.usecases import ballots, comments, similar, votes
from services.views import presenters
from services.views import votes as vote_lists

# A body's full comment set can be large (thousands of rows of prose).
COMMENTS_MAX_BYTES = 20_000_000


class BallotController(Controller):
    path = "/api/v1/ballots"
    tags = ["ballots"]

    @post("/", operation_id="CreateBallot")
    async def create(
        self, session: AsyncSession, principal: Principal, now: datetime, idem: Idempotency, data: api.BallotCreate
    ) -> Response[Any]:
        if replay := await idem.replay():
            return replay
        ballot, warning = await ballots.create_ballot(session, principal, data, now)
        return await idem.respond(await presenters.ballot_out(session, ballot, now, warning=warning))

    @get("/", operation_id="ListBallots")
    async def list_ballots(
        self,
        session: AsyncSession,
        principal: Principal,
        now: datetime,
        status: Literal["draft", "open", "closed", "cancelled"] | None = None,
        committee_id: int | None = None,
    ) -> list[api.BallotOut]:
        rows = await ballots.list_ballots(session, status=status, committee_id=committee_id)
        return await presenters.ballot_outs(session, rows, now)

    @get("/{ballot_id:int}", operation_id="GetBallot")
    async def read(self, session: AsyncSession, principal: Principal, now: datetime, ballot_id: int) -> api.BallotOut:
        ballot = await ballots.get_ballot(session, ballot_id)
        return await presenters.ballot_out(session, ballot, now, viewer=principal)

    @get("/{ballot_id:int}/eligibility", operation_id="GetEligibility")
    async def eligibility(self, session: AsyncSession, principal: Principal, ballot_id: int) -> list[api.EligibleOut]:
        await ballots.get_ballot(session, ballot_id)
        return [
            api.EligibleOut(
                party=e.party, kind=e.kind, is_p_member=e.is_p_member, may_vote=e.may_vote, may_comment=e.may_comment
            )
            for e in await ballots.eligibility(session, ballot_id)
        ]

    @post("/{ballot_id:int}/open", operation_id="OpenBallot", status_code=200)
    async def open(self, session: AsyncSession, principal: Principal, now: datetime, ballot_id: int) -> api.BallotOut:
        return await presenters.ballot_out(session, await ballots.open_ballot(session, principal, ballot_id, now), now)

    @post("/{ballot_id:int}/extend", operation_id="ExtendBallot", status_code=200)
    async def extend(
        self, session: AsyncSession, principal: Principal, now: datetime, ballot_id: int, data: api.BallotExtend
    ) -> api.BallotOut:
        ballot, warning = await ballots.extend_ballot(session, principal, ballot_id, data.closes_at, now)
        return await presenters.ballot_out(session, ballot, now, warning=warning)

    @post("/{ballot_id:int}/close", operation_id="CloseBallot", status_code=200)
    async def close(self, session: AsyncSession, principal: Principal, now: datetime, ballot_id: int) -> api.BallotOut:
        return await presenters.ballot_out(session, await ballots.close_ballot(session, principal, ballot_id, now), now)

    @post("/{ballot_id:int}/reopen", operation_id="ReopenBallot", status_code=200)
    async def reopen(
        self, session: AsyncSession, principal: Principal, now: datetime, ballot_id: int, data: api.BallotReopen
    ) -> api.BallotOut:
        ballot = await ballots.reopen_ballot(session, principal, ballot_id, data, now)
        return await presenters.ballot_out(session, ballot, now)

    @post("/{ballot_id:int}/cancel", operation_id="CancelBallot", status_code=200)
    async def cancel(
        self,
        session: AsyncSession,
        principal: Principal,
        now: datetime,
        ballot_id: int,
        data: api.BallotCancel | None = None,
    ) -> api.BallotOut:
        reason = data.reason if data else ""
        return await presenters.ballot_out(
            session, await ballots.cancel_ballot(session, principal, ballot_id, reason, now), now
        )

    @put("/{ballot_id:int}/votes/{code:str}", operation_id="CastVote")
    async def vote(
        self, state: State, principal: Principal, ballot_id: int, code: str, data: api.VotePut
    ) -> Response[api.VoteOut]:
        # The hot path, leaner than its neighbours: no request transaction (the use case runs its
        # own, one statement on PostgreSQL), and the clock read here rather than as a second
        # dependency, which litestar would resolve beside the principal in a task group of its own.
        now = state.clock()
        vote, created = await votes.take_vote(state.db, principal, ballot_id, code, data, now)
        return Response(presenters.vote_out(vote), status_code=201 if created else 200)

    @get("/{ballot_id:int}/votes", operation_id="ListVotes")
    async def list_votes(self, session: AsyncSession, principal: Principal, ballot_id: int) -> list[api.VoteOut]:
        return [presenters.vote_out(v) for v in await vote_lists.list_votes(session, principal, ballot_id)]

    @put(
        "/{ballot_id:int}/comments/{code:str}", operation_id="ReplaceComments", request_max_body_size=COMMENTS_MAX_BYTES
    )
    async def put_comments(
        self,
        session: AsyncSession,
        principal: Principal,
        now: datetime,
        ballot_id: int,
        code: str,
        data: api.CommentsPut,
    ) -> Response[api.CommentSetOut]:
        new = [comments.NewComment.from_api(c) for c in data.comments]
        rows, first = await comments.replace_comments(session, principal, ballot_id, code, new, now)
        version = rows[0].set_version if rows else 0
        out = api.CommentSetOut(
            ballot_id=ballot_id, body=code, set_version=version, comments=[presenters.comment_out(c) for c in rows]
        )
        return Response(out, status_code=201 if first else 200)

    @get("/{ballot_id:int}/comments", operation_id="ListComments")
    async def list_comments(
        self,
        session: AsyncSession,
        principal: Principal,
        ballot_id: int,
        order: Literal["clause", "member"] = "clause",
        member: Annotated[str | None, QueryParameter(name="body", max_length=40)] = None,
        repeated: bool = False,
    ) -> list[api.CommentOut]:
        rows = await similar.comments_with_earlier(session, principal, ballot_id, order, member, repeated)
        return [presenters.comment_out(c, [presenters.earlier_out(e) for e in earlier]) for c, earlier in rows]

    @get("/{ballot_id:int}/comments/similar", operation_id="ListSimilarComments")
    async def similar_comments(self, session: AsyncSession, principal: Principal, ballot_id: int) -> api.SimilarOut:
        groups = await similar.similar_groups(session, principal, ballot_id)
        return api.SimilarOut(
            groups=[api.SimilarGroupOut(references=list(g.references), clause=g.clause, score=g.score) for g in groups]
        )

    @put("/{ballot_id:int}/observations", operation_id="RecordGroupObservation")
    async def observe_group(
        self, session: AsyncSession, principal: Principal, now: datetime, ballot_id: int, data: api.ObservationsPut
    ) -> list[api.CommentOut]:
        rows = await similar.record_group_observation(session, principal, ballot_id, data, now)
        return [presenters.comment_out(c) for c in rows]

    @put("/{ballot_id:int}/observations/{reference:str}", operation_id="RecordObservation")
    async def observe(
        self,
        session: AsyncSession,
        principal: Principal,
        now: datetime,
        ballot_id: int,
        reference: str,
        data: api.ObservationPut,
    ) -> api.CommentOut:
        return presenters.comment_out(
            await comments.record_observation(session, principal, ballot_id, reference, data, now)
        )
