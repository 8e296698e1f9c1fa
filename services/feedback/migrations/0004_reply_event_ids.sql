-- Each reply a submitter reads names the event that recorded it (ReplySent, or
-- SubmissionRejected with its reason), so that they can ask that event's inclusion
-- proof (GET /api/v1/public/audit/feedback/proofs/{event_id}). Runs with search_path
-- set to the feedback schema.
--
-- Replies written before are given theirs from the log: the projection appended one
-- reply per such event of the submission's stream, in stream order. Only where the
-- counts agree exactly; otherwise the replies stay as they were (event_id absent,
-- shown as null), never guessed.

UPDATE submissions s SET replies = (
    SELECT jsonb_agg(r.reply || jsonb_build_object('event_id', e.event_id::text) ORDER BY r.n)
      FROM jsonb_array_elements(s.replies) WITH ORDINALITY AS r(reply, n)
      JOIN (SELECT event_id, row_number() OVER (ORDER BY version) AS n
              FROM events
             WHERE stream_id = 'submission-' || s.submission_id
               AND type IN ('ReplySent', 'SubmissionRejected')) e ON e.n = r.n
)
 WHERE jsonb_array_length(s.replies) > 0
   AND jsonb_array_length(s.replies) = (
       SELECT count(*) FROM events
        WHERE stream_id = 'submission-' || s.submission_id AND type IN ('ReplySent', 'SubmissionRejected'));
