/** The messaging pane: a conversation list, newest at the bottom. */
import { displayAddress } from '../target.js';
import { byId } from './dom.js';

export class MessagesView {
  private readonly list = byId<HTMLOListElement>('messages');
  private readonly empty = byId('messages-empty');

  add(direction: 'in' | 'out', peer: string, text: string): HTMLLIElement {
    const item = document.createElement('li');
    item.className = `bubble ${direction}`;
    const meta = document.createElement('span');
    meta.className = 'meta';
    meta.textContent = direction === 'in' ? displayAddress(peer) : `to ${displayAddress(peer)}`;
    const body = document.createElement('span');
    body.className = 'text';
    body.textContent = text;
    item.append(meta, body);
    this.list.append(item);
    this.empty.hidden = true;
    this.list.scrollTop = this.list.scrollHeight;
    return item;
  }

  markFailed(item: HTMLLIElement, why: string): void {
    item.classList.add('failed');
    item.title = why;
    const meta = item.querySelector('.meta');
    if (meta !== null) meta.textContent = `${meta.textContent ?? ''} · not delivered`;
  }

  clear(): void {
    this.list.replaceChildren();
    this.empty.hidden = false;
  }
}
