-- The grassroots service's read models (services/grassroots/read_models/).

CREATE TABLE organisations (
    organisation_id  text        PRIMARY KEY,
    kind             text        NOT NULL,
    org_type         text        NOT NULL,
    name             text        NOT NULL,
    parent_id        text,
    full_members     integer     NOT NULL DEFAULT 0,
    probationary     integer     NOT NULL DEFAULT 0,
    secretary_id     text,
    term_ends        timestamptz
);
CREATE INDEX organisations_by_parent ON organisations (parent_id);

CREATE TABLE pipeline (
    person_id         text        PRIMARY KEY,
    name              text        NOT NULL,
    branch_id         text        NOT NULL,
    stage             text        NOT NULL,
    entrepreneur      boolean     NOT NULL,
    applied_at        timestamptz NOT NULL,
    short_course      boolean     NOT NULL DEFAULT false,
    notice_closes_at  timestamptz,
    open_cases        integer     NOT NULL DEFAULT 0,
    next_step         text,
    next_due          timestamptz
);
CREATE INDEX pipeline_by_branch ON pipeline (branch_id, stage);
CREATE INDEX pipeline_due ON pipeline (next_step, next_due);

CREATE TABLE elections (
    election_id       text        PRIMARY KEY,
    organisation_id   text        NOT NULL,
    phase             text        NOT NULL,
    seats             integer     NOT NULL,
    committee         boolean     NOT NULL,
    entitled          integer     NOT NULL,
    candidates        jsonb       NOT NULL DEFAULT '[]',
    notice_closes_at  timestamptz,
    present           integer,
    cast_ballots      integer,
    void_ballots      integer,
    votes             jsonb,       -- published with the count, never before
    elected           jsonb,
    secretary_id      text,
    called_at         timestamptz NOT NULL
);

CREATE TABLE ratings (
    branch_id            text        NOT NULL,
    year                 integer     NOT NULL,
    name                 text,
    level                text        NOT NULL,
    criteria_score       integer     NOT NULL,
    survey_satisfaction  integer     NOT NULL,
    problems             jsonb       NOT NULL,
    rated_at             timestamptz NOT NULL,
    PRIMARY KEY (branch_id, year)
);

CREATE TABLE affairs_schedules (
    branch_id   text        NOT NULL,
    category    text        NOT NULL,
    scope       text        NOT NULL,
    every_days  integer     NOT NULL,
    since       timestamptz NOT NULL,
    due_by      timestamptz NOT NULL,
    PRIMARY KEY (branch_id, category)
);
CREATE INDEX affairs_due ON affairs_schedules (due_by);

CREATE TABLE affairs_publications (
    event_id      text        PRIMARY KEY,
    branch_id     text        NOT NULL,
    category      text        NOT NULL,
    scope         text        NOT NULL,
    title         text        NOT NULL,
    body          text        NOT NULL,
    published_at  timestamptz NOT NULL
);
CREATE INDEX affairs_publications_by_branch ON affairs_publications (branch_id, published_at);

CREATE TABLE affairs_missed (
    event_id    text        PRIMARY KEY,
    branch_id   text        NOT NULL,
    category    text        NOT NULL,
    due_by      timestamptz NOT NULL,
    flagged_at  timestamptz NOT NULL
);

CREATE TABLE pairings (
    pairing_id         text        PRIMARY KEY,
    branch_id          text        NOT NULL,
    member_id          text        NOT NULL,
    entrepreneur_id    text        NOT NULL,
    entrepreneur_name  text        NOT NULL,
    enterprise         text        NOT NULL,
    goals              jsonb       NOT NULL,
    met                jsonb       NOT NULL DEFAULT '[]',
    paired_at          timestamptz NOT NULL
);
