/**
 * Glossary of the domain words used across the aggregator.
 *
 * - message: one request from a client to reach one recipient on one channel. Has a stable id
 *   (uuid) minted by router-service; every later record about it is keyed by that id.
 * - channel: how a message reaches its recipient: email, sms, whatsapp or push.
 * - provider: the outside system that performs the send for a channel (simulated here).
 * - attempt: one call to a provider for one message; numbered from 1. A message has 1..maxAttempts.
 * - lane: a Kafka topic a message travels on: the channel's send topic, its retry topic, or the
 *   dead-letter topic.
 * - dead letter: a record that cannot be delivered (permanent failure, exhausted retries, or a
 *   malformed record), published to the dead-letter topic with the reason and last error.
 * - ledger: delivery-service's PostgreSQL record, keyed by message id, written before and after each
 *   provider call so that a redelivered Kafka record never repeats the effect.
 * - fence: a counter bumped each time a worker claims a message; a worker whose fence is stale
 *   (it stalled past its lease and someone else took over) may not write an outcome.
 * - trace / span: OpenTelemetry terms; one message's whole journey is one trace.
 */
export {};
