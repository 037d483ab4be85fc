"""Shapes of GET /me/points (marshmallow, documented by flask-smorest)."""

import marshmallow as ma

from app.models import TxKind


class PointsQuery(ma.Schema):
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=100_000))
    per_page = ma.fields.Integer(load_default=20, validate=ma.validate.Range(min=1, max=100))


class EntryOut(ma.Schema):
    id = ma.fields.Integer(required=True, metadata={"description": "the ledger entry's id"})
    at = ma.fields.AwareDateTime(required=True)
    amount = ma.fields.Integer(required=True, metadata={"description": "signed: positive in, negative out"})
    balance_after = ma.fields.Integer(required=True)
    kind = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf([k.value for k in TxKind]),
        metadata={"enum": [k.value for k in TxKind]},
    )
    reason = ma.fields.String(required=True, metadata={"description": "in the language of Accept-Language"})


class PointsOut(ma.Schema):
    balance = ma.fields.Integer(required=True)
    earned_total = ma.fields.Integer(
        required=True, metadata={"description": "points earned by verified visits, reversed ones excluded"}
    )
    entries = ma.fields.List(
        ma.fields.Nested(EntryOut), required=True, metadata={"description": "newest first"}
    )
    page = ma.fields.Integer(required=True)
    per_page = ma.fields.Integer(required=True)
    total = ma.fields.Integer(required=True, metadata={"description": "how many entries in all"})
