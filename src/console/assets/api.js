// The console's only way to the server: the public JSON API with the signed-in token.

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }

  /// Field → message, for showing errors beside their fields.
  fieldErrors() {
    const errors = {};
    for (const { field, message } of this.problem.errors || []) {
      errors[field] = errors[field] ? `${errors[field]}; ${message}` : message;
    }
    return errors;
  }
}

export function createApi(token, onUnauthorized) {
  async function call(method, path, body) {
    const init = { method, headers: { Authorization: `Bearer ${token}` } };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const response = await fetch(`/api/v1${path}`, init);
    if (response.status === 204) return null;
    const text = await response.text();
    const data = text ? JSON.parse(text) : null;
    if (!response.ok) {
      if (response.status === 401) onUnauthorized();
      throw new ApiError(response.status, data);
    }
    return data;
  }
  return {
    get: (path) => call('GET', path),
    post: (path, body) => call('POST', path, body ?? {}),
    put: (path, body) => call('PUT', path, body),
    patch: (path, body) => call('PATCH', path, body),
    del: (path) => call('DELETE', path),
  };
}

/// Checks a token before keeping it.
export async function tokenWorks(token) {
  const response = await fetch('/api/v1/info', { headers: { Authorization: `Bearer ${token}` } });
  return response.ok;
}
