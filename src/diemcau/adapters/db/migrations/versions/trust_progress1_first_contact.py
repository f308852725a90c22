"""trust: first contact per member × lecture (progress bounded by real time), refused coverage per lecture

Revision ID: trust_progress1
Revises: 0002
Create Date: 2026-12-06 23:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "trust_progress1"
down_revision = "0002"
branch_labels = ("trust_progress",)
depends_on = ("progress1",)  # adds a column to its lecture_progress


def upgrade() -> None:
    with op.batch_alter_table("lecture_progress", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_contact_at", sa.DateTime(), nullable=True))
    # A row from before this revision has no recorded first contact. Date it as if its watched time had been
    # played at the fastest speed (2×, the player's menu then) just before now: its member keeps every
    # allowance already earned and goes on at once, while coverage still grows no faster than real time allows.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "UPDATE lecture_progress SET first_contact_at = (now() AT TIME ZONE 'utc')"
            " - make_interval(secs => watched_seconds / 2)"
        )
    else:
        op.execute(
            "UPDATE lecture_progress SET first_contact_at = datetime('now', '-' || (watched_seconds / 2) || ' seconds')"
        )
    op.create_table(
        "lecture_progress_refusals",
        sa.Column("lecture_id", sa.String(length=32), nullable=False),
        sa.Column("refused_seconds", sa.Double(), nullable=False),
        sa.Column("refused_posts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("lecture_id"),
    )


def downgrade() -> None:
    op.drop_table("lecture_progress_refusals")
    with op.batch_alter_table("lecture_progress", schema=None) as batch_op:
        batch_op.drop_column("first_contact_at")
