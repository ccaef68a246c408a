import Hummingbird

/// The hand-written OpenAPI 3.1 document of every route, served at `/openapi.yaml`. Tests run schemathesis against the
/// running server with it: a route or answer that drifts from it fails them.
enum OpenAPIDocument {
    static let yaml = #"""
        openapi: 3.1.0
        info:
          title: Calor
          version: "1"
          summary: Lead scoring and qualification, self-hosted.
          description: |
            Calor's HTTP API. Every route but the operations routes (/healthz, /readyz, /metrics, /openapi.yaml) needs an
            API key: `Authorization: Bearer calor_<scope>_…`. Scopes: `ingest` (events and lead data), `read` (leads,
            scores, reports), `sales` (what `read` may, and moving leads between stages), `admin` (everything). Errors are `application/problem+json` (RFC 9457).
            Text anywhere in a request (values and keys, free-form objects included) must not hold U+0000.
        servers:
          - url: http://127.0.0.1:8080
        security:
          - bearer: []
        tags:
          - name: operations
          - name: ingestion
          - name: segment
            description: Segment-compatible ingestion (the Segment Spec, as Segment's and RudderStack's libraries send it).
          - name: leads
          - name: criteria
        paths:
          /healthz:
            get:
              tags: [operations]
              summary: The process answers.
              security: []
              responses:
                "200":
                  description: Alive.
                  content:
                    application/json:
                      schema: { $ref: "#/components/schemas/Status" }
          /readyz:
            get:
              tags: [operations]
              summary: The database answers and its schema is current.
              security: []
              responses:
                "200":
                  description: Ready.
                  content:
                    application/json:
                      schema:
                        allOf:
                          - $ref: "#/components/schemas/Status"
                          - type: object
                            properties:
                              rescoring:
                                type: object
                                properties:
                                  pending_leads: { type: integer, minimum: 0 }
                "503": { $ref: "#/components/responses/Problem" }
          /metrics:
            get:
              tags: [operations]
              summary: Prometheus metrics (text exposition format).
              security: []
              responses:
                "200":
                  description: Metrics.
                  content:
                    text/plain:
                      schema: { type: string }
          /openapi.yaml:
            get:
              tags: [operations]
              summary: This document.
              security: []
              responses:
                "200":
                  description: The OpenAPI document.
                  content:
                    application/yaml:
                      schema: {}
          /v1/events:
            post:
              tags: [ingestion]
              summary: One event, or a batch of events.
              description: |
                A batch answers 200 with one result per item: accepted, duplicate (same message_id as a stored event) or
                rejected (with a problem). A bad item never blocks the good ones; the answer comes once every accepted item
                is committed. A single event answers 202 (accepted), 200 (duplicate) or a problem.
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      oneOf:
                        - $ref: "#/components/schemas/NewEvent"
                        - $ref: "#/components/schemas/EventBatch"
              responses:
                "200":
                  description: A batch's results, or a single duplicate event.
                  content:
                    application/json:
                      schema:
                        oneOf:
                          - $ref: "#/components/schemas/BatchResults"
                          - $ref: "#/components/schemas/EventResult"
                "202":
                  description: The event is stored.
                  content:
                    application/json:
                      schema: { $ref: "#/components/schemas/EventResult" }
                "400": { $ref: "#/components/responses/Problem" }
                "401": { $ref: "#/components/responses/Problem" }
                "403": { $ref: "#/components/responses/Problem" }
                "404": { $ref: "#/components/responses/Problem" }
                "409": { $ref: "#/components/responses/Problem" }
                "413": { $ref: "#/components/responses/Problem" }
                "415": { $ref: "#/components/responses/Problem" }
                "503": { $ref: "#/components/responses/Problem" }
          /v1/leads:
            put:
              tags: [ingestion]
              summary: Create or update a lead, by email or external id.
              description: |
                Attributes merge key by key (null removes a key); the source is kept only when the lead has none. With
                `anonymous_id`, the visitor's past and future events become the lead's. A key that may read gets the lead
                back; an ingest-only key gets only its id.
              requestBody:
                required: true
                content:
                  application/json:
                    schema: { $ref: "#/components/schemas/LeadUpsert" }
              responses:
                "200":
                  description: The lead was updated.
                  content:
                    application/json:
                      schema: { $ref: "#/components/schemas/LeadOrID" }
                "201":
                  description: The lead was created.
                  content:
                    application/json:
                      schema: { $ref: "#/components/schemas/LeadOrID" }
                "400": { $ref: "#/components/responses/Problem" }
                "401": { $ref: "#/components/responses/Problem" }
                "403": { $ref: "#/components/responses/Problem" }
                "409": { $ref: "#/components/responses/Problem" }
                "413": { $ref: "#/components/responses/Problem" }
                "415": { $ref: "#/components/responses/Problem" }
                "503": { $ref: "#/components/responses/Problem" }
            get:
              tags: [leads]
              summary: Find a lead by email or external id, or list leads.
              parameters:
                - name: email
                  in: query
                  schema: { $ref: "#/components/schemas/Email" }
                  description: Find the lead with this email (the other filters do not apply then).
                - name: external_id
                  in: query
                  schema: { $ref: "#/components/schemas/Text" }
                  description: Find the lead with this external id.
                - name: temperature
                  in: query
                  schema: { type: string, enum: [cold, warm, hot, disqualified] }
                  description: A hot list never holds a disqualified lead.
                - { name: grade, in: query, schema: { type: string, enum: [A, B, C, D] } }
                - { name: stage, in: query, schema: { type: string, minLength: 1 } }
                - { name: channel, in: query, schema: { type: string, minLength: 1 }, description: "First-touch channel." }
                - { name: min_score, in: query, schema: { type: number } }
                - { name: max_score, in: query, schema: { type: number } }
                - { name: updated_since, in: query, schema: { $ref: "#/components/schemas/Time" } }
                - { name: exclude_disqualified, in: query, schema: { type: boolean } }
                - { name: sort, in: query, schema: { type: string, enum: [created, score, updated] } }
                - { name: limit, in: query, schema: { type: integer, minimum: 1, maximum: 1000 } }
                - name: cursor
                  in: query
                  schema: { type: string, pattern: "^[A-Za-z0-9_-]+$" }
                  description: next_cursor of the previous page (of the same sort).
              responses:
                "200":
                  description: A page of leads.
                  content:
                    application/json:
                      schema:
                        type: object
                        required: [data, next_cursor]
                        properties:
                          data: { type: array, items: { $ref: "#/components/schemas/Lead" } }
                          next_cursor: { type: [string, "null"] }
                "400": { $ref: "#/components/responses/Problem" }
                "401": { $ref: "#/components/responses/Problem" }
                "403": { $ref: "#/components/responses/Problem" }
                "503": { $ref: "#/components/responses/Problem" }
          /v1/leads/{id}:
            get:
              tags: [leads]
              summary: A lead with its score, explanation and history.
              parameters:
                - { $ref: "#/components/parameters/LeadID" }
              responses:
                "200":
                  description: The lead.
                  content:
                    application/json:
                      schema: { $ref: "#/components/schemas/LeadDetail" }
                "401": { $ref: "#/components/responses/Problem" }
                "403": { $ref: "#/components/responses/Problem" }
                "404": { $ref: "#/components/responses/Problem" }
                "503": { $ref: "#/components/responses/Problem" }
          /v1/leads/{id}/events:
            get:
              tags: [leads]
              summary: A lead's timeline, newest first.
              parameters:
                - { $ref: "#/components/parameters/LeadID" }
                - { name: limit, in: query, schema: { type: integer, minimum: 1, maximum: 1000 } }
                - { name: cursor, in: query, schema: { type: string, pattern: "^[0-9]+\\.[0-9]+$" } }
              responses:
                "200":
                  description: A page of events.
                  content:
                    application/json:
                      schema:
                        type: object
                        required: [data, next_cursor]
                        properties:
                          data: { type: array, items: { $ref: "#/components/schemas/Event" } }
                          next_cursor: { type: [string, "null"] }
                "400": { $ref: "#/components/responses/Problem" }
                "401": { $ref: "#/components/responses/Problem" }
                "403": { $ref: "#/components/responses/Problem" }
                "404": { $ref: "#/components/responses/Problem" }
                "503": { $ref: "#/components/responses/Problem" }
          /v1/leads/{id}/stages:
            get:
              tags: [funnel]
              summary: A lead's stage history, oldest first.
              parameters:
                - { $ref: "#/components/parameters/LeadID" }
              responses:
                "200":
                  description: Every transition of the lead.
                  content:
                    application/json:
                      schema:
                        type: object
                        required: [data]
                        properties:
                          data: { type: array, items: { $ref: "#/components/schemas/StageTransition" } }
                "400": { $ref: "#/components/responses/Problem" }
                "401": { $ref: "#/components/responses/Problem" }
                "403": { $ref: "#/components/responses/Problem" }
                "404": { $ref: "#/components/responses/Problem" }
                "503": { $ref: "#/components/responses/Problem" }
          /v1/leads/{id}/stage:
            post:
              tags: [funnel]
              summary: Move a lead to a stage by hand (sales or admin key).
              description: |
                Manual moves go anywhere: back, forward, into an exit or out of one. The move holds: automation leaves
                the lead there until it does something new. A lead already in the stage is left alone (200, moved false).
              parameters:
                - { $ref: "#/components/parameters/LeadID" }
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      type: object
                      additionalProperties: false
                      required: [stage]
                      properties:
                        stage: { $ref: "#/components/schemas/Text" }
                        reason: { type: [string, "null"], maxLength: 2000 }
                        value: { type: [number, "null"], minimum: 0 }
              responses:
                "200":
                  description: The lead was in the stage already; nothing changed.
                  content:
                    application/json:
                      schema: { $ref: "#/components/schemas/StageMove" }
                "201":
                  description: The lead was moved.
                  content:
                    application/json:
                      schema: { $ref: "#/components/schemas/StageMove" }
                "400": { $ref: "#/components/responses/Problem" }
                "401": { $ref: "#/components/responses/Problem" }
                "403": { $ref: "#/components/responses/Problem" }
                "404": { $ref: "#/components/responses/Problem" }
                "413": { $ref: "#/components/responses/Problem" }
                "422": { $ref: "#/components/responses/Problem" }
                "503": { $ref: "#/components/responses/Problem" }
          /v1/reports/funnel:
            get:
              tags: [reports]
              summary: The funnel report over the leads that entered in a period.
              description: |
                Per stage of the path: leads that reached it (a lead that entered a later stage passed every earlier
                one), conversion from the previous stage and from the first, drop-off, and the median and 90th
                percentile of the time from reaching the previous stage (nearest rank, seconds).
              parameters:
                - $ref: "#/components/parameters/ReportFrom"
                - $ref: "#/components/parameters/ReportTo"
                - $ref: "#/components/parameters/ReportBy"
                - { name: cohort, in: query, schema: { type: string, enum: [week, month] } }
                - name: window
                  in: query
                  description: Only stages reached within this long of entering count (30d, 2w, 12h).
                  schema: { type: string, pattern: "^[0-9]*[1-9][0-9]*[mhdw]$" }
              responses:
                "200":
                  description: The report.
                  content:
                    application/json:
                      schema: { $ref: "#/components/schemas/FunnelReport" }
                "400": { $ref: "#/components/responses/Problem" }
                "401": { $ref: "#/components/responses/Problem" }
                "403": { $ref: "#/components/responses/Problem" }
                "503": { $ref: "#/components/responses/Problem" }
          /v1/reports/temperatures:
            get:
              tags: [reports]
              summary: The scorecard, how many cold, warm, hot and disqualified leads each source brings.
              parameters:
                - $ref: "#/components/parameters/ReportFrom"
                - $ref: "#/components/parameters/ReportTo"
                - $ref: "#/components/parameters/ReportBy"
              responses:
                "200":
                  description: One row per source, most leads first.
                  content:
                    application/json:
                      schema:
                        type: object
                        required: [by, rows]
                        properties:
                          by: { type: [string, "null"] }
                          rows:
                            type: array
                            items:
                              type: object
                              required: [group, leads, cold, warm, hot, disqualified, unscored, hot_share]
                              properties:
                                group: { type: [string, "null"] }
                                leads: { type: integer }
                                cold: { type: integer }
                                warm: { type: integer }
                                hot: { type: integer }
                                disqualified: { type: integer }
                                unscored: { type: integer }
                                hot_share: { type: [number, "null"] }
                "400": { $ref: "#/components/responses/Problem" }
                "401": { $ref: "#/components/responses/Problem" }
                "403": { $ref: "#/components/responses/Problem" }
                "503": { $ref: "#/components/responses/Problem" }
          /v1/reports/attribution:
            get:
              tags: [reports]
              summary: Conversions of a period and their value, credited to channels (or campaigns) under a model.
              description: |
                Journeys are each lead's touchpoints (events the channel rules give a channel) in the lookback window
                before its conversion (the conversion event, or reaching the conversion stage, whichever came first);
                leads that had not converted by the period's end give null journeys. Markov is solved exactly.
              parameters:
                - $ref: "#/components/parameters/AttributionModel"
                - $ref: "#/components/parameters/ConversionsFrom"
                - $ref: "#/components/parameters/ConversionsTo"
                - $ref: "#/components/parameters/SourceBy"
                - $ref: "#/components/parameters/HalfLife"
                - $ref: "#/components/parameters/MarkovOrder"
              responses:
                "200":
                  description: The totals and one row per channel (or campaign), by name.
                  content:
                    application/json:
                      schema:
                        type: object
                        required: [model, by, from, to, journeys, conversions, value, unattributed_conversions, unattributed_value, rows]
                        properties:
                          model: { type: string }
                          by: { type: string, enum: [channel, campaign] }
                          from: { type: [string, "null"], format: date-time }
                          to: { type: string, format: date-time }
                          journeys: { type: integer }
                          conversions: { type: number }
                          value: { type: number }
                          unattributed_conversions: { type: number }
                          unattributed_value: { type: number }
                          rows:
                            type: array
                            items:
                              type: object
                              required: [group, conversions, value]
                              properties:
                                group: { type: string }
                                conversions: { type: number }
                                value: { type: number }
                                removal_effect_conversion: { type: number, description: markov only }
                                removal_effect_value: { type: number, description: markov only }
                "400": { $ref: "#/components/responses/Problem" }
                "401": { $ref: "#/components/responses/Problem" }
                "403": { $ref: "#/components/responses/Problem" }
                "503": { $ref: "#/components/responses/Problem" }
          /v1/reports/sources:
            get:
              tags: [reports]
              summary: Per channel or campaign, leads, MQLs, customers, attributed revenue, cost and its ratios.
              description: |
                Leads, MQLs, customers and hot leads count the leads created in the period by acquisition source;
                conversions and revenue are the period's, attributed under the model; cost is what was imported for
                the source, prorated to the days of the period. Ratios are null where they would divide by zero or no
                cost was imported.
              parameters:
                - $ref: "#/components/parameters/AttributionModel"
                - $ref: "#/components/parameters/ConversionsFrom"
                - $ref: "#/components/parameters/ConversionsTo"
                - $ref: "#/components/parameters/SourceBy"
                - $ref: "#/components/parameters/HalfLife"
                - $ref: "#/components/parameters/MarkovOrder"
              responses:
                "200":
                  description: One row per source, most leads first.
                  content:
                    application/json:
                      schema:
                        type: object
                        required: [model, by, from, to, currency, unattributed_conversions, unattributed_value, rows]
                        properties:
                          model: { type: string }
                          by: { type: string, enum: [channel, campaign] }
                          from: { type: [string, "null"], format: date-time }
                          to: { type: string, format: date-time }
                          currency: { type: [string, "null"] }
                          unattributed_conversions: { type: number }
                          unattributed_value: { type: number }
                          rows:
                            type: array
                            items:
                              type: object
                              required: [group, leads, mqls, customers, hot_leads, hot_share, conversions, revenue, cost, cost_per_lead, cost_per_mql, cost_per_customer, roi, roas]
                              properties:
                                group: { type: string }
                                leads: { type: integer }
                                mqls: { type: integer }
                                customers: { type: integer }
                                hot_leads: { type: integer }
                                hot_share: { type: [number, "null"] }
                                conversions: { type: number }
                                revenue: { type: number }
                                cost: { type: [number, "null"] }
                                cost_per_lead: { type: [number, "null"] }
                                cost_per_mql: { type: [number, "null"] }
                                cost_per_customer: { type: [number, "null"] }
                                roi: { type: [number, "null"] }
                                roas: { type: [number, "null"] }
                "400": { $ref: "#/components/responses/Problem" }
                "401": { $ref: "#/components/responses/Problem" }
                "403": { $ref: "#/components/responses/Problem" }
                "422": { $ref: "#/components/responses/Problem" }
                "503": { $ref: "#/components/responses/Problem" }
          /v1/reports/value:
            get:
              tags: [reports]
              summary: Repeat-purchase rate, average order value, orders per customer and lifetime value.
              description: |
                Of the customers whose first conversion falls in the period, by acquisition channel or campaign (by)
                and by the week or month of that first conversion (cohort).
              parameters:
                - $ref: "#/components/parameters/ConversionsFrom"
                - $ref: "#/components/parameters/ConversionsTo"
                - $ref: "#/components/parameters/SourceBy"
                - { name: cohort, in: query, schema: { type: string, enum: [week, month] } }
              responses:
                "200":
                  description: One row per cohort and group.
                  content:
                    application/json:
                      schema:
                        type: object
                        required: [by, cohort, from, to, rows]
                        properties:
                          by: { type: [string, "null"] }
                          cohort: { type: [string, "null"] }
                          from: { type: [string, "null"], format: date-time }
                          to: { type: string, format: date-time }
                          rows:
                            type: array
                            items:
                              type: object
                              required: [cohort, group, customers, repeat_customers, orders, revenue, repeat_purchase_rate, average_order_value, orders_per_customer, lifetime_value]
                              properties:
                                cohort: { type: [string, "null"], format: date-time }
                                group: { type: [string, "null"] }
                                customers: { type: integer }
                                repeat_customers: { type: integer }
                                orders: { type: integer }
                                revenue: { type: number }
                                repeat_purchase_rate: { type: number }
                                average_order_value: { type: [number, "null"] }
                                orders_per_customer: { type: number }
                                lifetime_value: { type: number }
                "400": { $ref: "#/components/responses/Problem" }
                "401": { $ref: "#/components/responses/Problem" }
                "403": { $ref: "#/components/responses/Problem" }
                "503": { $ref: "#/components/responses/Problem" }
          /v1/criteria:
            get:
              tags: [criteria]
              summary: The active criteria version.
              responses:
                "200":
                  description: The active version, with its document.
                  content:
                    application/json:
                      schema: { $ref: "#/components/schemas/CriteriaVersion" }
                "401": { $ref: "#/components/responses/Problem" }
                "403": { $ref: "#/components/responses/Problem" }
                "404": { $ref: "#/components/responses/Problem" }
                "503": { $ref: "#/components/responses/Problem" }
            put:
              tags: [criteria]
              summary: Apply a criteria document (or preview it with dry_run=true).
              description: |
                The document is validated whole; every problem is listed with its line and rule. Applied, it becomes a new
                active version and leads are rescored in the background. A dry run changes nothing and answers the diff and
                how many leads would change temperature.
              parameters:
                - { name: dry_run, in: query, schema: { type: boolean } }
                - { name: comment, in: query, schema: { type: string, minLength: 1 } }
              requestBody:
                required: true
                content:
                  application/yaml:
                    schema: { type: string }
                  application/json:
                    schema: { type: object }
              responses:
                "200":
                  description: The preview of a dry run.
                  content:
                    application/json:
                      schema: { $ref: "#/components/schemas/CriteriaPreview" }
                "201":
                  description: The new active version.
                  content:
                    application/json:
                      schema: { $ref: "#/components/schemas/CriteriaVersion" }
                "400": { $ref: "#/components/responses/Problem" }
                "401": { $ref: "#/components/responses/Problem" }
                "403": { $ref: "#/components/responses/Problem" }
                "413": { $ref: "#/components/responses/Problem" }
                "415": { $ref: "#/components/responses/Problem" }
                "422": { $ref: "#/components/responses/Problem" }
                "503": { $ref: "#/components/responses/Problem" }
          /v1/criteria/history:
            get:
              tags: [criteria]
              summary: Every criteria version, newest first (without documents).
              responses:
                "200":
                  description: The history.
                  content:
                    application/json:
                      schema:
                        type: object
                        required: [data]
                        properties:
                          data: { type: array, items: { $ref: "#/components/schemas/CriteriaVersion" } }
                "401": { $ref: "#/components/responses/Problem" }
                "403": { $ref: "#/components/responses/Problem" }
                "503": { $ref: "#/components/responses/Problem" }
          /v1/criteria/versions/{version}:
            get:
              tags: [criteria]
              summary: One criteria version, with its document.
              parameters:
                - { name: version, in: path, required: true, schema: { type: integer } }
              responses:
                "200":
                  description: The version.
                  content:
                    application/json:
                      schema: { $ref: "#/components/schemas/CriteriaVersion" }
                "401": { $ref: "#/components/responses/Problem" }
                "403": { $ref: "#/components/responses/Problem" }
                "404": { $ref: "#/components/responses/Problem" }
                "503": { $ref: "#/components/responses/Problem" }
          /v1/track: { $ref: "#/components/pathItems/SegmentTrack" }
          /v1/identify: { $ref: "#/components/pathItems/SegmentCall" }
          /v1/page: { $ref: "#/components/pathItems/SegmentCall" }
          /v1/screen: { $ref: "#/components/pathItems/SegmentCall" }
          /v1/group: { $ref: "#/components/pathItems/SegmentCall" }
          /v1/alias: { $ref: "#/components/pathItems/SegmentAlias" }
          /v1/batch: { $ref: "#/components/pathItems/SegmentBatch" }
          /v1/import: { $ref: "#/components/pathItems/SegmentBatch" }
        components:
          securitySchemes:
            bearer:
              type: http
              scheme: bearer
              description: An API key, `calor_<scope>_<random>`.
            basic:
              type: http
              scheme: basic
              description: Segment-compatible routes only; the key is the user name, the password is empty.
          parameters:
            LeadID:
              name: id
              in: path
              required: true
              schema: { type: string }
              description: The lead's id (a UUID).
            ReportFrom:
              name: from
              in: query
              description: Leads that entered from this day (YYYY-MM-DD, UTC) or this RFC 3339 time.
              schema: { type: string, pattern: "^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2}))?$" }
            ReportTo:
              name: to
              in: query
              description: Leads that entered up to this day (included) or before this time; later than from.
              schema: { type: string, pattern: "^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2}))?$" }
            ReportBy:
              name: by
              in: query
              description: Break down by first-touch channel, campaign, or a lead attribute (attributes.NAME).
              schema: { type: string, pattern: "^(channel|campaign|attributes\\.[A-Za-z0-9_-]{1,100})$" }
            AttributionModel:
              name: model
              in: query
              description: The attribution model (default markov).
              schema:
                type: string
                enum: [first_touch, last_touch, last_non_direct, linear, position_based, time_decay, w_shaped, markov, shapley]
            ConversionsFrom:
              name: from
              in: query
              description: Conversions (source report, also leads created) from this day (YYYY-MM-DD, UTC) or RFC 3339 time.
              schema: { type: string, pattern: "^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2}))?$" }
            ConversionsTo:
              name: to
              in: query
              description: Up to this day (included) or before this time; later than from; default now.
              schema: { type: string, pattern: "^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2}))?$" }
            SourceBy:
              name: by
              in: query
              description: Credit channels (the default) or campaigns.
              schema: { type: string, enum: [channel, campaign] }
            HalfLife:
              name: half_life
              in: query
              description: time_decay's half-life (default 7d).
              schema: { type: string, pattern: "^[0-9]*[1-9][0-9]*[mhdw]$" }
            MarkovOrder:
              name: order
              in: query
              description: markov's order, how many channels a state remembers (default 1).
              schema: { type: integer, minimum: 1, maximum: 4 }
          responses:
            Problem:
              description: An RFC 9457 problem document.
              content:
                application/problem+json:
                  schema: { $ref: "#/components/schemas/Problem" }
          pathItems:
            SegmentCall:
              post:
                tags: [segment]
                summary: One Segment call (the path names its type).
                description: |
                  The body is JSON, sent as application/json or text/plain, possibly gzip-compressed. The key comes as a
                  Bearer token, as the user name of Basic auth, or as writeKey in the body.
                security: [{ bearer: [] }, { basic: [] }, {}]
                requestBody:
                  required: true
                  content:
                    application/json:
                      schema: { $ref: "#/components/schemas/SegmentCall" }
                responses:
                  "200":
                    description: Taken in.
                    content:
                      application/json:
                        schema: { $ref: "#/components/schemas/SegmentAnswer" }
                  "400": { $ref: "#/components/responses/Problem" }
                  "401": { $ref: "#/components/responses/Problem" }
                  "403": { $ref: "#/components/responses/Problem" }
                  "404": { $ref: "#/components/responses/Problem" }
                  "409": { $ref: "#/components/responses/Problem" }
                  "413": { $ref: "#/components/responses/Problem" }
                  "415": { $ref: "#/components/responses/Problem" }
                  "503": { $ref: "#/components/responses/Problem" }
            SegmentTrack:
              post:
                tags: [segment]
                summary: A Segment track call.
                description: |
                  The body is JSON, sent as application/json or text/plain, possibly gzip-compressed. The key comes as a
                  Bearer token, as the user name of Basic auth, or as writeKey in the body.
                security: [{ bearer: [] }, { basic: [] }, {}]
                requestBody:
                  required: true
                  content:
                    application/json:
                      schema: { $ref: "#/components/schemas/SegmentTrackCall" }
                responses:
                  "200":
                    description: Taken in.
                    content:
                      application/json:
                        schema: { $ref: "#/components/schemas/SegmentAnswer" }
                  "400": { $ref: "#/components/responses/Problem" }
                  "401": { $ref: "#/components/responses/Problem" }
                  "403": { $ref: "#/components/responses/Problem" }
                  "404": { $ref: "#/components/responses/Problem" }
                  "409": { $ref: "#/components/responses/Problem" }
                  "413": { $ref: "#/components/responses/Problem" }
                  "415": { $ref: "#/components/responses/Problem" }
                  "503": { $ref: "#/components/responses/Problem" }
            SegmentAlias:
              post:
                tags: [segment]
                summary: A Segment alias call (ties previousId, a visitor, to userId).
                description: |
                  The body is JSON, sent as application/json or text/plain, possibly gzip-compressed. The key comes as a
                  Bearer token, as the user name of Basic auth, or as writeKey in the body.
                security: [{ bearer: [] }, { basic: [] }, {}]
                requestBody:
                  required: true
                  content:
                    application/json:
                      schema: { $ref: "#/components/schemas/SegmentAliasCall" }
                responses:
                  "200":
                    description: Taken in.
                    content:
                      application/json:
                        schema: { $ref: "#/components/schemas/SegmentAnswer" }
                  "400": { $ref: "#/components/responses/Problem" }
                  "401": { $ref: "#/components/responses/Problem" }
                  "403": { $ref: "#/components/responses/Problem" }
                  "404": { $ref: "#/components/responses/Problem" }
                  "409": { $ref: "#/components/responses/Problem" }
                  "413": { $ref: "#/components/responses/Problem" }
                  "415": { $ref: "#/components/responses/Problem" }
                  "503": { $ref: "#/components/responses/Problem" }
            SegmentBatch:
              post:
                tags: [segment]
                summary: A batch of Segment messages of any type.
                security: [{ bearer: [] }, { basic: [] }, {}]
                requestBody:
                  required: true
                  content:
                    application/json:
                      schema:
                        type: object
                        required: [batch]
                        properties:
                          batch:
                            type: array
                            description: |
                              Messages (SegmentBatchMessage). Each is checked on its own: a bad one is answered rejected
                              in the results and does not block the others.
                            items: {}
                          sentAt: { oneOf: [{ $ref: "#/components/schemas/Time" }, { type: "null" }] }
                          context: { type: object }
                          writeKey: { type: string }
                responses:
                  "200":
                    description: Taken in (each message's outcome in results).
                    content:
                      application/json:
                        schema: { $ref: "#/components/schemas/SegmentAnswer" }
                  "400": { $ref: "#/components/responses/Problem" }
                  "401": { $ref: "#/components/responses/Problem" }
                  "403": { $ref: "#/components/responses/Problem" }
                  "413": { $ref: "#/components/responses/Problem" }
                  "415": { $ref: "#/components/responses/Problem" }
                  "503": { $ref: "#/components/responses/Problem" }
          schemas:
            Status:
              type: object
              required: [status]
              properties:
                status: { type: string }
            Problem:
              type: object
              required: [type, title, status]
              properties:
                type: { type: string, description: "https://calor.dev/problems/<slug>: stable." }
                title: { type: string }
                status: { type: integer }
                detail: { type: string }
                errors:
                  type: array
                  items:
                    type: object
                    required: [pointer, detail]
                    properties:
                      pointer: { type: string }
                      detail: { type: string }
            LeadReference:
              type: object
              additionalProperties: false
              minProperties: 1
              maxProperties: 1
              properties:
                id: { type: string, format: uuid }
                email: { $ref: "#/components/schemas/Email" }
                external_id: { $ref: "#/components/schemas/Text" }
            Time:
              type: string
              format: date-time
              pattern: "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$"
              description: RFC 3339 (2026-11-01T10:00:00Z).
            Text:
              type: string
              minLength: 1
              maxLength: 200
              pattern: "\\S"
              description: Text with at least one character that is not a space (leading and trailing spaces are dropped).
            Email:
              type: string
              maxLength: 320
              pattern: "^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+$"
            NewEvent:
              type: object
              additionalProperties: false
              required: [type]
              anyOf:
                - required: [lead]
                - required: [anonymous_id]
              properties:
                message_id: { $ref: "#/components/schemas/Text" }
                type: { $ref: "#/components/schemas/Text" }
                lead: { $ref: "#/components/schemas/LeadReference" }
                anonymous_id: { $ref: "#/components/schemas/Text" }
                timestamp: { oneOf: [{ $ref: "#/components/schemas/Time" }, { type: "null" }] }
                properties: { type: [object, "null"] }
                context: { type: [object, "null"] }
            EventBatch:
              type: object
              additionalProperties: false
              required: [batch]
              properties:
                batch:
                  type: array
                  description: |
                    Events (NewEvent). Each is checked on its own: a bad one is answered rejected in the results and does
                    not block the others.
                  items: {}
            EventResult:
              type: object
              required: [status]
              properties:
                index: { type: integer }
                status: { type: string, enum: [accepted, duplicate, rejected] }
                event_id: { type: string }
                lead_id: { type: [string, "null"] }
                error: { $ref: "#/components/schemas/Problem" }
            BatchResults:
              type: object
              required: [results]
              properties:
                results: { type: array, items: { $ref: "#/components/schemas/EventResult" } }
            LeadUpsert:
              type: object
              additionalProperties: false
              anyOf:
                - required: [email]
                - required: [external_id]
              properties:
                email: { $ref: "#/components/schemas/Email" }
                external_id: { $ref: "#/components/schemas/Text" }
                attributes: { type: object }
                anonymous_id: { $ref: "#/components/schemas/Text" }
                source:
                  type: object
                  additionalProperties: false
                  properties:
                    channel: { $ref: "#/components/schemas/Text" }
                    campaign: { $ref: "#/components/schemas/Text" }
            Score:
              type: object
              required: [total, fit, engagement, temperature, grade, disqualified, criteria_version, computed_at, explanation]
              properties:
                total: { type: number }
                fit: { type: number }
                engagement: { type: number }
                temperature: { type: string, enum: [cold, warm, hot, disqualified] }
                grade: { type: string, enum: [A, B, C, D] }
                disqualified: { type: boolean }
                criteria_version: { type: integer }
                computed_at: { type: string, format: date-time }
                explanation:
                  type: array
                  items:
                    type: object
                    required: [rule, kind, points]
                    properties:
                      rule: { type: string }
                      kind: { type: string, enum: [fit, engagement, disqualify] }
                      points: { type: number }
                      events: { type: integer }
            Lead:
              type: object
              required: [id, email, external_id, attributes, source, stage, created_at, updated_at, score]
              properties:
                id: { type: string }
                email: { type: [string, "null"] }
                external_id: { type: [string, "null"] }
                attributes: { type: object }
                source:
                  oneOf:
                    - type: "null"
                    - type: object
                      properties:
                        channel: { type: [string, "null"] }
                        campaign: { type: [string, "null"] }
                stage: { type: string }
                created_at: { type: string, format: date-time }
                updated_at: { type: string, format: date-time }
                score:
                  oneOf:
                    - type: "null"
                    - $ref: "#/components/schemas/Score"
            LeadOrID:
              oneOf:
                - $ref: "#/components/schemas/Lead"
                - type: object
                  required: [id]
                  additionalProperties: false
                  properties:
                    id: { type: string }
            LeadDetail:
              allOf:
                - $ref: "#/components/schemas/Lead"
                - type: object
                  required: [temperature_history, stage_history, anonymous_ids]
                  properties:
                    temperature_history:
                      type: array
                      items:
                        type: object
                        required: [to_temperature, to_grade, at]
                        properties:
                          from_temperature: { type: [string, "null"] }
                          to_temperature: { type: string }
                          from_grade: { type: [string, "null"] }
                          to_grade: { type: string }
                          criteria_version: { type: integer }
                          at: { type: string, format: date-time }
                    stage_history: { type: array, items: { $ref: "#/components/schemas/StageTransition" } }
                    anonymous_ids: { type: array, items: { type: string } }
            FunnelReport:
              type: object
              required: [stages, from, to, cohort, by, window_seconds, leads, rows]
              properties:
                stages: { type: array, items: { type: string } }
                from: { type: [string, "null"], format: date-time }
                to: { type: [string, "null"], format: date-time }
                cohort: { type: [string, "null"] }
                by: { type: [string, "null"] }
                window_seconds: { type: [number, "null"] }
                leads: { type: integer }
                rows:
                  type: array
                  items:
                    type: object
                    required: [cohort, group, stages]
                    properties:
                      cohort: { type: [string, "null"], format: date-time }
                      group: { type: [string, "null"] }
                      stages:
                        type: array
                        items:
                          type: object
                          required:
                            - stage
                            - reached
                            - conversion_from_previous
                            - conversion_from_first
                            - drop_off
                            - median_seconds_from_previous
                            - p90_seconds_from_previous
                          properties:
                            stage: { type: string }
                            reached: { type: integer }
                            conversion_from_previous: { type: [number, "null"] }
                            conversion_from_first: { type: [number, "null"] }
                            drop_off: { type: integer }
                            median_seconds_from_previous: { type: [number, "null"] }
                            p90_seconds_from_previous: { type: [number, "null"] }
            StageTransition:
              type: object
              required: [id, from, to, at, reason, value]
              properties:
                id: { type: string }
                from: { type: [string, "null"] }
                to: { type: string }
                at: { type: string, format: date-time }
                reason:
                  type: object
                  required: [kind]
                  properties:
                    kind: { type: string, enum: [rule, event, manual] }
                    rule: { type: string }
                    event_id: { type: [string, "null"] }
                    actor: { type: string }
                    note: { type: [string, "null"] }
                value: { type: [number, "null"] }
            StageMove:
              type: object
              required: [moved, transition, lead]
              properties:
                moved: { type: boolean }
                transition:
                  oneOf:
                    - { $ref: "#/components/schemas/StageTransition" }
                    - { type: "null" }
                lead: { $ref: "#/components/schemas/Lead" }
            Event:
              type: object
              required: [id, message_id, type, lead_id, anonymous_id, timestamp, received_at, properties, context]
              properties:
                id: { type: string }
                message_id: { type: string }
                type: { type: string }
                lead_id: { type: [string, "null"] }
                anonymous_id: { type: [string, "null"] }
                timestamp: { type: string, format: date-time }
                received_at: { type: string, format: date-time }
                properties: { type: object }
                context: { type: object }
            CriteriaVersion:
              type: object
              required: [version, active, created_at, author, comment, content_hash]
              properties:
                version: { type: integer }
                active: { type: boolean }
                created_at: { type: string, format: date-time }
                author: { type: string }
                comment: { type: [string, "null"] }
                content_hash: { type: string }
                document: { type: string }
            CriteriaPreview:
              type: object
              required: [dry_run, diff, leads, movements, stage_moves]
              properties:
                dry_run: { type: boolean }
                diff: { type: string }
                leads: { type: integer }
                movements:
                  type: array
                  items:
                    type: object
                    required: [from, to, leads]
                    properties:
                      from: { type: [string, "null"] }
                      to: { type: string }
                      leads: { type: integer }
                stage_moves:
                  description: How many leads the document's funnel rules would move now, from one stage to another.
                  type: array
                  items:
                    type: object
                    required: [from, to, leads]
                    properties:
                      from: { type: string }
                      to: { type: string }
                      leads: { type: integer }
            SegmentMessage:
              type: object
              description: A message of the Segment Spec (other fields are accepted and ignored, as Segment does).
              properties:
                type: { type: string, enum: [track, identify, page, screen, group, alias] }
                userId: { $ref: "#/components/schemas/SegmentID" }
                anonymousId: { $ref: "#/components/schemas/SegmentID" }
                event: { $ref: "#/components/schemas/Text" }
                name: { type: [string, "null"] }
                category: { type: [string, "null"] }
                properties: { type: object }
                traits:
                  type: object
                  properties:
                    email: { $ref: "#/components/schemas/Email" }
                context:
                  type: object
                  properties:
                    traits:
                      type: object
                      properties:
                        email: { $ref: "#/components/schemas/Email" }
                timestamp: { $ref: "#/components/schemas/Time" }
                sentAt: { $ref: "#/components/schemas/Time" }
                messageId: { $ref: "#/components/schemas/Text" }
                groupId: { $ref: "#/components/schemas/Text" }
                previousId: { $ref: "#/components/schemas/Text" }
                writeKey: { type: string }
            SegmentID:
              description: An id; integers are taken as their decimal text, as Segment does.
              oneOf: [{ $ref: "#/components/schemas/Text" }, { $ref: "#/components/schemas/SegmentInteger" }, { type: "null" }]
            SegmentInteger:
              type: integer
              minimum: -999999999999999
              maximum: 999999999999999
            SegmentIdentified:
              description: A message names a user (userId, or an email in context.traits), a visitor (anonymousId), or both.
              anyOf:
                - { required: [userId], properties: { userId: { oneOf: [{ $ref: "#/components/schemas/Text" }, { $ref: "#/components/schemas/SegmentInteger" }] } } }
                - required: [anonymousId]
                  properties: { anonymousId: { oneOf: [{ $ref: "#/components/schemas/Text" }, { $ref: "#/components/schemas/SegmentInteger" }] } }
                - required: [context]
                  properties:
                    context: { required: [traits], properties: { traits: { required: [email] } } }
            SegmentCall:
              allOf:
                - $ref: "#/components/schemas/SegmentMessage"
                - $ref: "#/components/schemas/SegmentIdentified"
            SegmentTrackCall:
              allOf:
                - $ref: "#/components/schemas/SegmentCall"
                - required: [event]
            SegmentAliasCall:
              allOf:
                - $ref: "#/components/schemas/SegmentMessage"
                - required: [previousId, userId]
                  properties:
                    userId: { $ref: "#/components/schemas/Text" }
            SegmentBatchMessage:
              allOf:
                - $ref: "#/components/schemas/SegmentMessage"
                - required: [type]
                - if: { properties: { type: { const: alias } } }
                  then: { $ref: "#/components/schemas/SegmentAliasCall" }
                  else: { $ref: "#/components/schemas/SegmentIdentified" }
                - if: { properties: { type: { const: track } } }
                  then: { required: [event] }
            SegmentAnswer:
              type: object
              required: [success]
              properties:
                success: { type: boolean }
                results: { type: array, items: { $ref: "#/components/schemas/EventResult" } }
        """#

    static func addRoute(to router: Router<CalorRequestContext>) {
        router.get("/openapi.yaml") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "application/yaml"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: yaml))
            )
        }
    }
}
