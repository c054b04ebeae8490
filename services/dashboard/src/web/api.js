// The analyst API, as the page calls it. The token lives in this tab's sessionStorage only.

const TOKEN_KEY = "callscribe.analystToken";

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

export function storedToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function storeToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** GET an analyst API path with query parameters; empty values are left out. */
export async function get(path, params = {}) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v !== undefined && v !== null && v !== "") search.append(name, String(v));
    }
  }
  const query = search.toString();
  const response = await fetch(`/api/v1/${path}${query ? `?${query}` : ""}`, {
    headers: { authorization: `Bearer ${storedToken() ?? ""}` },
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, body.error ?? response.statusText);
  return body;
}
