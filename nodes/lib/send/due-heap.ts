// The waiting callbacks of the file queue ordered by when each is due.

export interface HeapItem {
  dueAt: number;
  id: string;
}

/** Min-heap on dueAt: the next-due lookup stays cheap with 10,000 callbacks queued. */
export class DueHeap {
  private items: HeapItem[] = [];
  get length(): number {
    return this.items.length;
  }
  peek(): HeapItem | undefined {
    return this.items[0];
  }
  push(item: HeapItem): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent] as HeapItem;
      if (p.dueAt <= item.dueAt) break;
      items[i] = p;
      i = parent;
    }
    items[i] = item;
  }
  pop(): HeapItem | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= items.length) break;
        const right = left + 1;
        const child = right < items.length && (items[right] as HeapItem).dueAt < (items[left] as HeapItem).dueAt ? right : left;
        if ((items[child] as HeapItem).dueAt >= last.dueAt) break;
        items[i] = items[child] as HeapItem;
        i = child;
      }
      items[i] = last;
    }
    return top;
  }
}
