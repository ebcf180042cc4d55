/** The instrumentations this product needs; anything else costs latency for nothing. */
export const DEFAULT_INSTRUMENTATIONS = 'http,express,kafkajs,pg,winston,graphql';
