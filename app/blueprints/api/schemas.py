"""Request and response shapes of the API (marshmallow, documented by flask-smorest)."""

import marshmallow as ma


class Strict(ma.Schema):
    """Unknown fields are an error, not silently dropped."""

    class Meta:
        unknown = ma.RAISE


class TokenRequest(Strict):
    phone = ma.fields.String(required=True, validate=ma.validate.Length(max=20))
    password = ma.fields.String(required=True, validate=ma.validate.Length(max=200))


class UserBrief(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    roles = ma.fields.List(ma.fields.String(), required=True)


class TokenResponse(ma.Schema):
    token = ma.fields.String(required=True)
    expires_in = ma.fields.Integer(required=True, metadata={"description": "seconds"})
    user = ma.fields.Nested(UserBrief, required=True)


class RegisterRequest(Strict):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=50))
    phone = ma.fields.String(required=True, validate=ma.validate.Length(max=20))
    password = ma.fields.String(required=True, validate=ma.validate.Length(max=200))
    grid_id = ma.fields.Integer(required=True, strict=True)
    skills = ma.fields.List(ma.fields.String(validate=ma.validate.Length(max=32)), load_default=list)
    free_times = ma.fields.List(ma.fields.String(validate=ma.validate.Length(max=32)), load_default=list)


class RegisterResponse(ma.Schema):
    user = ma.fields.Nested(UserBrief, required=True)


class OrgUnit(ma.Schema):
    level = ma.fields.String(required=True, metadata={"description": "street, community or grid"})
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)


class Me(UserBrief):
    phone = ma.fields.String(required=True)
    org_unit = ma.fields.Nested(OrgUnit, allow_none=True, required=True)
    skills = ma.fields.List(ma.fields.String(), required=True)
    free_times = ma.fields.List(ma.fields.String(), required=True)
    show_full_name = ma.fields.Boolean(required=True)


class GridOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)


class CommunityOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    grids = ma.fields.List(ma.fields.Nested(GridOut), required=True)


class StreetOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    communities = ma.fields.List(ma.fields.Nested(CommunityOut), required=True)


class OrgTree(ma.Schema):
    streets = ma.fields.List(ma.fields.Nested(StreetOut), required=True)


class SkillOut(ma.Schema):
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
