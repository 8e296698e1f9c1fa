-- The talent service's read models (services/talent/read_models/).

CREATE TABLE talents (
    person_id   text        PRIMARY KEY,
    team        text        NOT NULL,
    name        text        NOT NULL,
    specialty   text        NOT NULL,
    level       text        NOT NULL,
    source      text        NOT NULL,
    unit        text        NOT NULL,
    post        text,
    cadre_id    text,
    member_id   text,
    status      text        NOT NULL,
    returned    boolean     NOT NULL DEFAULT false,
    since       timestamptz NOT NULL
);
CREATE INDEX talents_pool ON talents (team, level, unit);

CREATE TABLE evaluations (
    event_id        text        PRIMARY KEY,
    person_id       text        NOT NULL,
    period          text        NOT NULL,
    evaluator_id    text        NOT NULL,
    evaluator_kind  text        NOT NULL,
    integrity       integer,
    ability         integer,
    performance     integer,
    grade           text,        -- an appraisal from cadre, as performance input
    evidence        jsonb       NOT NULL DEFAULT '[]',
    evaluated_at    timestamptz NOT NULL
);
CREATE INDEX evaluations_by_person ON evaluations (person_id, evaluated_at);

CREATE TABLE movements (
    event_id   text        PRIMARY KEY,
    person_id  text        NOT NULL,
    movement   text        NOT NULL,  -- left, returned
    reason     text,
    year       integer     NOT NULL,
    at         timestamptz NOT NULL
);
CREATE INDEX movements_by_year ON movements (year, movement, reason);

CREATE TABLE incentives (
    person_id   text NOT NULL,
    program_id  text NOT NULL,
    kind        text NOT NULL,
    starts_on   date NOT NULL,
    ends_on     date NOT NULL,
    PRIMARY KEY (person_id, program_id)
);

CREATE TABLE programs (
    program_id        text        PRIMARY KEY,
    title             text        NOT NULL,
    kind              text        NOT NULL,
    retention_way     text,
    phase             text        NOT NULL,
    quota             integer     NOT NULL,
    opens_at          timestamptz NOT NULL,
    closes_at         timestamptz NOT NULL,
    incentive         text        NOT NULL,
    applicants        jsonb       NOT NULL DEFAULT '[]',
    selected          jsonb       NOT NULL DEFAULT '[]',
    withdrawn         jsonb       NOT NULL DEFAULT '[]',
    notice_id         text,
    notice_closes_at  timestamptz,
    open_cases        integer     NOT NULL DEFAULT 0
);

CREATE TABLE platforms (
    platform_id  text        PRIMARY KEY,
    kind         text        NOT NULL,
    name         text        NOT NULL,
    unit         text        NOT NULL,
    talents      jsonb       NOT NULL DEFAULT '[]'
);

CREATE TABLE needs (
    need_id      text        PRIMARY KEY,
    unit         text        NOT NULL,
    team         text        NOT NULL,
    specialty    text        NOT NULL,
    description  text        NOT NULL,
    status       text        NOT NULL,
    posted_at    timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    filled_by    text
);
CREATE INDEX needs_open ON needs (status, expires_at);
