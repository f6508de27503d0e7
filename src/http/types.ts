import type { Router } from 'express';
import type { Logger } from '../util/logger.js';

export interface EndpointDoc {
  method: 'GET' | 'POST';
  path: string;
  description: string;
  /** Requires the bearer token when auth.token is set. */
  mutating?: boolean;
}

/** A group of endpoints owned by one concern; the app mounts each and lists them at GET /. */
export interface RouteModule {
  endpoints: EndpointDoc[];
  mount(router: Router, context: RouteContext): void;
}

export interface RouteContext {
  logger: Logger;
  /** Bearer-token guard for mutating endpoints. */
  guard: import('express').RequestHandler;
  /** Body parser for ordinary JSON requests. */
  json: import('express').RequestHandler;
  /** Body parser with the large limit, for event ingestion. */
  largeJson: import('express').RequestHandler;
}
