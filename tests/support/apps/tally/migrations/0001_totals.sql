-- A projection of tally's own events: totals per account.
CREATE TABLE tally_totals (
    account_id  text    PRIMARY KEY,
    deposits    integer NOT NULL,
    total       bigint  NOT NULL
);
