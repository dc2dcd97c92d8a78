/** The page's elements by id; a missing one is a bug in index.html, so it throws. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`index.html has no #${id}`);
  return element as T;
}

export function initialOf(address: string): string {
  return (/[a-z0-9]/i.exec(address.replace(/^(sips?|tel):/i, ''))?.[0] ?? '?').toUpperCase();
}
