/** List paging: the lexicons bound limit (1..100) and offset (≥0); these are the defaults. */
export const DEFAULT_SANDBOX_PAGE = 30;

export function page(params: { limit?: number; offset?: number }, defaultLimit: number): { limit: number; offset: number } {
  return { limit: params.limit ?? defaultLimit, offset: params.offset ?? 0 };
}
