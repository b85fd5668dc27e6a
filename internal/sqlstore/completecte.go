package sqlstore

import (
	"github.com/hookd/hookd"
)

// completeCTE records a batch of outcomes in one statement (one round trip
// on PostgreSQL, one prepared plan for any batch size): it inserts the
// attempts, in order, and applies the final outcomes to their deliveries
// still leased under the outcome's token, as insertAttempts and
// finishDeliveries do with several multi-row statements. The rows' columns
// come as parallel arrays. It returns the seq of each delivery updated,
// with its webhook and whether that webhook is ordered now.
const completeCTE = `WITH a AS (
	INSERT INTO attempts (id, delivery_seq, number, trigger_name, outcome, started_at, duration_ns,
		request_method, request_url, request_headers, request_body, response_status, response_headers, response_body,
		response_meta, error)
	SELECT id, delivery_seq, number, trigger_name, outcome, started_at, duration_ns, request_method, request_url,
		request_headers, request_body, response_status, response_headers, response_body, response_meta, error
	FROM unnest(CAST(? AS text[]), CAST(? AS bigint[]), CAST(? AS integer[]), CAST(? AS text[]), CAST(? AS text[]),
		CAST(? AS bigint[]), CAST(? AS bigint[]), CAST(? AS text[]), CAST(? AS text[]), CAST(? AS text[]),
		CAST(? AS text[]), CAST(? AS integer[]), CAST(? AS text[]), CAST(? AS text[]), CAST(? AS text[]),
		CAST(? AS text[])) WITH ORDINALITY
		AS t(id, delivery_seq, number, trigger_name, outcome, started_at, duration_ns, request_method, request_url,
			request_headers, request_body, response_status, response_headers, response_body, response_meta, error, ord)
	ORDER BY t.ord
), u AS (
	UPDATE deliveries SET state = v.state, next_attempt_at = NULL, due_at = NULL, lease_owner = '',
		lease_token = 0, attempt_count = attempt_count + v.tried, last_attempt_at = COALESCE(v.last, last_attempt_at),
		last_status = CASE WHEN v.tried = 1 THEN v.status ELSE last_status END,
		last_error = CASE WHEN v.tried = 1 THEN v.err ELSE last_error END, completed_at = v.now, updated_at = v.now
	FROM unnest(CAST(? AS bigint[]), CAST(? AS bigint[]), CAST(? AS integer[]), CAST(? AS integer[]),
		CAST(? AS bigint[]), CAST(? AS integer[]), CAST(? AS text[]), CAST(? AS bigint[]))
		AS v(seq, token, state, tried, last, status, err, now)
	WHERE deliveries.seq = v.seq AND deliveries.lease_token = v.token AND deliveries.state = 0
	RETURNING deliveries.seq, deliveries.webhook_id,
		COALESCE((SELECT ordered FROM webhooks WHERE webhooks.id = deliveries.webhook_id), 0) AS ordered
)
SELECT seq, webhook_id, ordered FROM u`

// completeWithCTE runs completeCTE for the attempts of outcomes and the
// final outcomes final. It records in held the deliveries that were still
// leased under the outcome's token, and in ordered whether their webhooks
// are ordered now (the cache orderedNow reads).
func (s *Store) completeWithCTE(w *wtx, outcomes, final []*hookd.Outcome, held map[int64]bool, ordered map[string]bool) error {
	args := attemptArrays(outcomes)
	args = append(args, finalArrays(final)...)
	rows, err := w.query(completeCTE, args...)
	if err != nil {
		return s.wrap(err, "")
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		var webhookID string
		var isOrdered int
		if err := rows.Scan(&seq, &webhookID, &isOrdered); err != nil {
			return s.wrap(err, "")
		}
		held[seq], ordered[webhookID] = true, isOrdered != 0
	}
	if err := rows.Err(); err != nil {
		return s.wrap(err, "")
	}
	return s.wrap(rows.Close(), "")
}

// attemptArrays returns the 16 columns of the attempts of outcomes (those
// that have one), each as an array, in the outcomes' order.
func attemptArrays(outcomes []*hookd.Outcome) []any {
	var (
		ids, triggers, results, methods, urls, reqHeaders, errs []string
		seqs, starts, durations                                 []int64
		numbers, statuses                                       []int32
		reqBodies, respHeaders, respBodies, metas               []*string
	)
	for _, o := range outcomes {
		if o.Attempt == nil {
			continue
		}
		r := newAttemptRow(o.Delivery, o.Attempt)
		ids, seqs, numbers = append(ids, r.id), append(seqs, r.deliverySeq), append(numbers, int32(r.number))
		triggers, results = append(triggers, r.trigger), append(results, r.outcome)
		starts, durations = append(starts, r.startedAt), append(durations, r.durationNS)
		methods, urls, reqHeaders = append(methods, r.method), append(urls, r.url), append(reqHeaders, r.reqHeaders)
		reqBodies, statuses = append(reqBodies, r.reqBody), append(statuses, int32(r.status))
		respHeaders, respBodies = append(respHeaders, r.respHeaders), append(respBodies, r.respBody)
		metas, errs = append(metas, r.respMeta), append(errs, r.err)
	}
	return []any{ids, seqs, numbers, triggers, results, starts, durations, methods, urls, reqHeaders,
		reqBodies, statuses, respHeaders, respBodies, metas, errs}
}

// finalArrays returns the 8 columns of the final outcomes' updates, each as
// an array: delivery seq, lease token, state, tried (0 or 1), attempt
// start (or NULL), response status, error, now.
func finalArrays(final []*hookd.Outcome) []any {
	n := len(final)
	seqs, tokens, lasts, nows := make([]int64, n), make([]int64, n), make([]*int64, n), make([]int64, n)
	states, tried, statuses, errs := make([]int32, n), make([]int32, n), make([]int32, n), make([]string, n)
	for i, o := range final {
		d, t := o.Delivery, triedOf(o.Attempt)
		seqs[i], tokens[i], states[i], nows[i] = d.Seq, d.LeaseToken, int32(stateCodes[o.State]), ns(o.Now)
		tried[i], statuses[i], errs[i] = int32(t.n), int32(t.status), t.err
		if t.n == 1 {
			lasts[i] = &t.last
		}
	}
	return []any{seqs, tokens, states, tried, lasts, statuses, errs, nows}
}
