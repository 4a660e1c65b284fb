/**
 * List paging. The lexicons check limit ≥ 1 and offset ≥ 0 but set no maximum: the hosted
 * lexicons have none and official clients ask for more (the CLI lists with limit 100, other
 * SDKs pass what their caller gives), so a larger limit is served as MAX_PAGE instead of refused.
 */
export const DEFAULT_SANDBOX_PAGE = 30;
export const MAX_PAGE = 100;

export function page(params: { limit?: number; offset?: number }, defaultLimit: number): { limit: number; offset: number } {
  return { limit: Math.min(params.limit ?? defaultLimit, MAX_PAGE), offset: params.offset ?? 0 };
}
