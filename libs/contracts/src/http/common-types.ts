/** Shared HTTP shapes of the public API (docs/api-conventions.md). */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  requestId?: string;
  errors?: Array<{ field: string; message: string }>;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
export const PROBLEM_TYPE_BASE = 'https://direktvermittlung.de/problems/';
export const API_PREFIX = 'api/v1';
