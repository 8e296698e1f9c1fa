-- Ballots are secret (无记名投票): a candidate's journey names no voter.
-- Recommendation steps recorded before ballots were secret kept the voter's id;
-- the selections projection no longer writes it, and this removes what it wrote.
-- Runs with search_path set to the cadre schema.

UPDATE candidate_journeys SET details = details - 'voter_id' WHERE step = 'recommended' AND details ? 'voter_id';
