-- What the public reads names the stored event it comes from, so that a reader can
-- ask for that event's inclusion proof (GET /api/v1/public/audit/cadre/proofs/{event_id})
-- and check the board against the signed log: a notice the event that opened it, a
-- published result the event that closed the selection, each appointment or
-- withholding its own. Runs with search_path set to the cadre schema.
--
-- Rows written before are given theirs from the log itself, by what the projections
-- wrote them from (the store's position, the stream, the type, the notice id), never
-- by guessing: a row the log does not name exactly keeps NULL (shown as null).

ALTER TABLE public_notices ADD COLUMN event_id uuid;
ALTER TABLE candidate_journeys ADD COLUMN event_id uuid;
ALTER TABLE selection_processes ADD COLUMN phase_event_id uuid;  -- the event that moved it into its phase

-- A journey step keeps the position of the event it records.
UPDATE candidate_journeys j SET event_id = e.event_id FROM events e WHERE e.position = j.position;

-- A notice was written from the event of its kind, in its selection's stream, with its id.
UPDATE public_notices n SET event_id = e.event_id
  FROM events e
 WHERE e.stream_id = 'selection-' || n.process_id
   AND e.type = CASE n.kind WHEN 'pre_appointment' THEN 'PublicNoticeOpened' ELSE 'AssessmentPreviewPublished' END
   AND e.data->>'notice_id' = n.notice_id;

-- A process's phase is the one its latest phase event moved it into (the projection's PHASES).
UPDATE selection_processes p SET phase_event_id = (
    SELECT e.event_id FROM events e
     WHERE e.stream_id = 'selection-' || p.process_id
       AND e.type IN ('SelectionAnnounced', 'RegistrationOpened', 'RecommendationOpened', 'ShortlistDrawn',
                      'AssessmentPreviewPublished', 'AssessmentStarted', 'CommitteeConvened',
                      'CommitteeVoteConcluded', 'PublicNoticeOpened', 'SelectionClosed',
                      'RegistrationExtended', 'SelectionCancelled', 'AppointmentPostponed')
     ORDER BY e.version DESC
     LIMIT 1
);
