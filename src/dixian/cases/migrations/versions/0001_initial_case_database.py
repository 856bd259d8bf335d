"""Initial case database: people, cases, the audit ledger and its append-only guards.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS_HASH = "0" * 64
# The legal floor of log retention (Cybersecurity Law Art. 21(3)): even a purge cannot
# remove entries younger than this, whatever the configuration says.
_FLOOR_DAYS = 184

_SQLITE_GUARDS = [
    """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END""",
    f"""CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    WHEN NOT (OLD.seq <= COALESCE((SELECT MAX(through_seq) FROM audit_purges), 0)
              AND OLD.ts < datetime('now', '-{_FLOOR_DAYS} days'))
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused'); END""",
    """CREATE TRIGGER audit_purges_no_update BEFORE UPDATE ON audit_purges
    BEGIN SELECT RAISE(ABORT, 'audit_purges is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER audit_purges_no_delete BEFORE DELETE ON audit_purges
    BEGIN SELECT RAISE(ABORT, 'audit_purges is append-only: DELETE refused'); END""",
    """CREATE TRIGGER audit_chain_head_no_delete BEFORE DELETE ON audit_chain_head
    BEGIN SELECT RAISE(ABORT, 'audit_chain_head cannot be deleted'); END""",
]

_POSTGRES_GUARDS = [
    f"""CREATE FUNCTION dixian_audit_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE'
         AND OLD.seq <= COALESCE((SELECT max(through_seq) FROM audit_purges), 0)
         AND OLD.ts < (now() AT TIME ZONE 'UTC') - interval '{_FLOOR_DAYS} days' THEN
        RETURN OLD;
      END IF;
      RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP;
    END $$""",
    """CREATE FUNCTION dixian_append_only_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
    END $$""",
    """CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION dixian_audit_log_guard()""",
    """CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION dixian_append_only_guard()""",
    """CREATE TRIGGER audit_purges_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_purges
    FOR EACH STATEMENT EXECUTE FUNCTION dixian_append_only_guard()""",
    """CREATE TRIGGER audit_chain_head_no_delete BEFORE DELETE OR TRUNCATE ON audit_chain_head
    FOR EACH STATEMENT EXECUTE FUNCTION dixian_append_only_guard()""",
    # The app role has no DELETE grant on the ledger; this function, owned by the migration
    # role, is the only way a purge deletes, and the row trigger above still applies.
    """CREATE FUNCTION dixian_audit_purge(through bigint) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER AS $$
    DECLARE deleted bigint;
    BEGIN
      DELETE FROM audit_log WHERE seq <= through;
      GET DIAGNOSTICS deleted = ROW_COUNT;
      RETURN deleted;
    END $$""",
    "REVOKE ALL ON FUNCTION dixian_audit_purge(bigint) FROM PUBLIC",
]


def _install_ledger_guards() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        statements = _SQLITE_GUARDS
    elif dialect == "postgresql":
        schema = op.get_bind().execute(sa.text("SELECT current_schema()")).scalar_one()
        statements = [
            *_POSTGRES_GUARDS,
            f"ALTER FUNCTION dixian_audit_purge(bigint) SET search_path = {schema}",
        ]
    else:
        raise RuntimeError(f"no append-only guards for the {dialect} dialect")
    for statement in statements:
        op.execute(sa.text(statement))


def _drop_ledger_guards() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in (
            "audit_log_no_update",
            "audit_log_no_delete",
            "audit_purges_no_update",
            "audit_purges_no_delete",
            "audit_chain_head_no_delete",
        ):
            op.execute(sa.text(f"DROP TRIGGER IF EXISTS {name}"))
    elif dialect == "postgresql":
        for statement in (
            "DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log",
            "DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log",
            "DROP TRIGGER IF EXISTS audit_purges_append_only ON audit_purges",
            "DROP TRIGGER IF EXISTS audit_chain_head_no_delete ON audit_chain_head",
            "DROP FUNCTION IF EXISTS dixian_audit_purge(bigint)",
            "DROP FUNCTION IF EXISTS dixian_audit_log_guard()",
            "DROP FUNCTION IF EXISTS dixian_append_only_guard()",
        ):
            op.execute(sa.text(statement))


def upgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("ts", sa.DateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=64), nullable=False),
        sa.Column("actor_role", sa.String(length=40), nullable=False),
        sa.Column("actor_region", sa.String(length=12), nullable=False),
        sa.Column("source_ip", sa.String(length=64), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("event_code", sa.String(length=40), nullable=False),
        sa.Column("object_type", sa.String(length=40), nullable=False),
        sa.Column("object_id", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("old_values", sa.Text(), nullable=True),
        sa.Column("new_values", sa.Text(), nullable=True),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("algorithm", sa.String(length=16), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_event_code"), ["event_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_ts"), ["ts"], unique=False)

    op.create_table(
        "audit_purges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("through_seq", sa.BigInteger(), nullable=False),
        sa.Column("anchor_hash", sa.String(length=64), nullable=False),
        sa.Column("cutoff", sa.DateTime(), nullable=False),
        sa.Column("purged_at", sa.DateTime(), nullable=False),
        sa.Column("deleted_count", sa.BigInteger(), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_purges")),
    )
    op.create_table(
        "households",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.String(length=64), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("head_name", sa.String(length=100), nullable=True),
        sa.Column("member_count", sa.Integer(), nullable=True),
        sa.Column("has_labour", sa.Boolean(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_households")),
        sa.UniqueConstraint("household_id", name=op.f("uq_households_household_id")),
    )
    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_households_region_code"), ["region_code"], unique=False
        )

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "system_admin",
                "security_admin",
                "audit_admin",
                "county_analyst",
                "township_reviewer",
                "village_caseworker",
                "leader",
                "helper_org",
                name="role",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("jurisdiction", sa.String(length=12), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("password_changed_at", sa.DateTime(), nullable=True),
        sa.Column(
            "password_history",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("failed_login_count", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("totp_secret", sa.String(length=64), nullable=True),
        sa.Column("totp_last_step", sa.Integer(), nullable=True),
        sa.Column("mfa_enabled", sa.Boolean(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("last_login_at", sa.DateTime(), nullable=True),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_pk", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "discovered",
                "visited",
                "village_reviewed",
                "township_reviewed",
                "monitoring",
                "elimination_proposed",
                "elimination_village_reviewed",
                "elimination_township_reviewed",
                "risk_eliminated",
                "long_term_protection",
                "not_identified",
                name="casestate",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column(
            "object_type",
            sa.Enum(
                "unstable_after_exit",
                "marginal_at_risk",
                "sudden_hardship",
                name="monitoringobjecttype",
                native_enum=False,
                length=40,
            ),
            nullable=True,
        ),
        sa.Column("primary_cause", sa.String(length=40), nullable=True),
        sa.Column(
            "causes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("decision_due", sa.Date(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("monitoring_started_on", sa.Date(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_pk"], ["households.id"], name=op.f("fk_cases_household_pk_households")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cases_decision_due"), ["decision_due"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_household_pk"), ["household_pk"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_state"), ["state"], unique=False)

    op.create_table(
        "household_authorisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_pk", sa.Integer(), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("form_sha256", sa.String(length=64), nullable=True),
        sa.Column("collected_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collected_by"],
            ["users.id"],
            name=op.f("fk_household_authorisations_collected_by_users"),
        ),
        sa.ForeignKeyConstraint(
            ["household_pk"],
            ["households.id"],
            name=op.f("fk_household_authorisations_household_pk_households"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household_authorisations")),
    )
    with op.batch_alter_table("household_authorisations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_household_authorisations_household_pk"), ["household_pk"], unique=False
        )

    op.create_table(
        "persons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("household_pk", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=True),
        sa.Column("sex", sa.String(length=1), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("relation_to_head", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["household_pk"], ["households.id"], name=op.f("fk_persons_household_pk_households")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_persons")),
        sa.UniqueConstraint("person_id", name=op.f("uq_persons_person_id")),
    )
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_persons_household_pk"), ["household_pk"], unique=False)

    op.create_table(
        "web_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=128), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_web_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_web_sessions_token_hash")),
    )
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_sessions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "assistance_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_assistance_plans_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_assistance_plans_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assistance_plans")),
    )
    with op.batch_alter_table("assistance_plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assistance_plans_case_id"), ["case_id"], unique=False)

    op.create_table(
        "discoveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_pk", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column(
            "channel",
            sa.Enum(
                "self_report",
                "cadre_canvass",
                "department_screening",
                name="channel",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("discovered_on", sa.Date(), nullable=False),
        sa.Column("risk_score", sa.Float(), nullable=True),
        sa.Column(
            "evidence",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("reported_by", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_discoveries_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["household_pk"], ["households.id"], name=op.f("fk_discoveries_household_pk_households")
        ),
        sa.ForeignKeyConstraint(
            ["reported_by"], ["users.id"], name=op.f("fk_discoveries_reported_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discoveries")),
        sa.UniqueConstraint(
            "household_pk", "period", "channel", name=op.f("uq_discoveries_household_pk")
        ),
    )
    with op.batch_alter_table("discoveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_discoveries_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_discoveries_household_pk"), ["household_pk"], unique=False
        )

    op.create_table(
        "follow_ups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("followed_on", sa.Date(), nullable=False),
        sa.Column("per_capita_income", sa.Float(), nullable=False),
        sa.Column("monitoring_line", sa.Float(), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["by_user_id"], ["users.id"], name=op.f("fk_follow_ups_by_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_follow_ups_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_ups")),
        sa.UniqueConstraint("case_id", "period", name=op.f("uq_follow_ups_case_id")),
    )
    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_follow_ups_case_id"), ["case_id"], unique=False)

    op.create_table(
        "notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_notes_author_id_users")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_notes_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notes")),
    )
    with op.batch_alter_table("notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notes_case_id"), ["case_id"], unique=False)

    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column(
            "level",
            sa.Enum(
                "village", "township", "county", name="reviewlevel", native_enum=False, length=40
            ),
            nullable=False,
        ),
        sa.Column(
            "purpose",
            sa.Enum(
                "identification", "elimination", name="reviewpurpose", native_enum=False, length=40
            ),
            nullable=False,
        ),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("opinion", sa.Text(), nullable=True),
        sa.Column("notice_start", sa.Date(), nullable=True),
        sa.Column("notice_end", sa.Date(), nullable=True),
        sa.Column("reviewer_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_reviews_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["users.id"], name=op.f("fk_reviews_reviewer_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
    )
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reviews_case_id"), ["case_id"], unique=False)

    op.create_table(
        "risk_eliminations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("proposed_on", sa.Date(), nullable=False),
        sa.Column("months_monitored", sa.Integer(), nullable=False),
        sa.Column("measures_delivered", sa.Integer(), nullable=False),
        sa.Column("months_above_line", sa.Integer(), nullable=False),
        sa.Column("confirmed_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_risk_eliminations_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_eliminations")),
    )
    with op.batch_alter_table("risk_eliminations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_risk_eliminations_case_id"), ["case_id"], unique=False)

    op.create_table(
        "visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("visitor_id", sa.Integer(), nullable=True),
        sa.Column("per_capita_income", sa.Float(), nullable=False),
        sa.Column("annual_expenses", sa.Float(), nullable=True),
        sa.Column("labour_count", sa.Integer(), nullable=False),
        sa.Column("food_clothing_secure", sa.Boolean(), nullable=False),
        sa.Column("education_secure", sa.Boolean(), nullable=False),
        sa.Column("medical_secure", sa.Boolean(), nullable=False),
        sa.Column("housing_secure", sa.Boolean(), nullable=False),
        sa.Column("water_secure", sa.Boolean(), nullable=False),
        sa.Column("findings", sa.Text(), nullable=True),
        sa.Column("authorisation_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["authorisation_id"],
            ["household_authorisations.id"],
            name=op.f("fk_visits_authorisation_id_household_authorisations"),
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_visits_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["visitor_id"], ["users.id"], name=op.f("fk_visits_visitor_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visits")),
    )
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_visits_case_id"), ["case_id"], unique=False)

    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("household_pk", sa.Integer(), nullable=True),
        sa.Column("visit_id", sa.Integer(), nullable=True),
        sa.Column("file_ref", sa.String(length=500), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("uploaded_by", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_attachments_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["household_pk"], ["households.id"], name=op.f("fk_attachments_household_pk_households")
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"], ["users.id"], name=op.f("fk_attachments_uploaded_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_attachments_visit_id_visits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
    )
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attachments_case_id"), ["case_id"], unique=False)

    op.create_table(
        "measures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("measure_type", sa.String(length=40), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("provider", sa.String(length=200), nullable=True),
        sa.Column("cost", sa.Float(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "planned",
                "in_progress",
                "delivered",
                "cancelled",
                name="measurestatus",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("delivered_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["assistance_plans.id"], name=op.f("fk_measures_plan_id_assistance_plans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measures")),
    )
    with op.batch_alter_table("measures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_measures_plan_id"), ["plan_id"], unique=False)

    # ### end Alembic commands ###
    op.execute(
        sa.text(
            "INSERT INTO audit_chain_head (id, last_seq, last_hash, mac) "
            "VALUES (1, 0, :genesis, NULL)"
        ).bindparams(genesis=GENESIS_HASH)
    )
    _install_ledger_guards()


def downgrade() -> None:
    _drop_ledger_guards()
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table("measures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_measures_plan_id"))

    op.drop_table("measures")
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attachments_case_id"))

    op.drop_table("attachments")
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visits_case_id"))

    op.drop_table("visits")
    with op.batch_alter_table("risk_eliminations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risk_eliminations_case_id"))

    op.drop_table("risk_eliminations")
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reviews_case_id"))

    op.drop_table("reviews")
    with op.batch_alter_table("notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notes_case_id"))

    op.drop_table("notes")
    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_follow_ups_case_id"))

    op.drop_table("follow_ups")
    with op.batch_alter_table("discoveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_discoveries_household_pk"))
        batch_op.drop_index(batch_op.f("ix_discoveries_case_id"))

    op.drop_table("discoveries")
    with op.batch_alter_table("assistance_plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assistance_plans_case_id"))

    op.drop_table("assistance_plans")
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_sessions_user_id"))

    op.drop_table("web_sessions")
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_persons_household_pk"))

    op.drop_table("persons")
    with op.batch_alter_table("household_authorisations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_household_authorisations_household_pk"))

    op.drop_table("household_authorisations")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_state"))
        batch_op.drop_index(batch_op.f("ix_cases_household_pk"))
        batch_op.drop_index(batch_op.f("ix_cases_decision_due"))

    op.drop_table("cases")
    op.drop_table("users")
    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_households_region_code"))

    op.drop_table("households")
    op.drop_table("audit_purges")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_ts"))
        batch_op.drop_index(batch_op.f("ix_audit_log_event_code"))

    op.drop_table("audit_log")
    op.drop_table("audit_chain_head")
    # ### end Alembic commands ###
