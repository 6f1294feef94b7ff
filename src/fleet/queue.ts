/**
 * The fleet's central wait queue: per model, two priority classes (interactive before batch),
 * FIFO inside a class. Doubly linked so a ticket can leave from anywhere in O(1) (abort,
 * timeout, affinity pick).
 */

export type Priority = 'interactive' | 'batch';

export interface QueueNode {
  /** Global arrival order; retried tickets keep their original number. */
  seq: number;
  priority: Priority;
  prev: QueueNode | undefined;
  next: QueueNode | undefined;
  /** The list this node is in, or undefined when not queued. */
  list: NodeList | undefined;
}

export class NodeList {
  head: QueueNode | undefined;
  tail: QueueNode | undefined;
  size = 0;

  push(node: QueueNode): void {
    node.list = this;
    node.next = undefined;
    node.prev = this.tail;
    if (this.tail) this.tail.next = node;
    else this.head = node;
    this.tail = node;
    this.size++;
  }

  /** Inserts keeping `seq` order (used by retries, which keep their place in line). */
  insertBySeq(node: QueueNode): void {
    let after = this.tail;
    while (after && after.seq > node.seq) after = after.prev;
    node.list = this;
    node.prev = after;
    node.next = after ? after.next : this.head;
    if (node.next) node.next.prev = node;
    else this.tail = node;
    if (after) after.next = node;
    else this.head = node;
    this.size++;
  }

  remove(node: QueueNode): void {
    if (node.list !== this) return;
    if (node.prev) node.prev.next = node.next;
    else this.head = node.next;
    if (node.next) node.next.prev = node.prev;
    else this.tail = node.prev;
    node.prev = node.next = node.list = undefined;
    this.size--;
  }
}

/** The two classes of one model's queue. */
export class ClassQueue {
  readonly interactive = new NodeList();
  readonly batch = new NodeList();

  get size(): number {
    return this.interactive.size + this.batch.size;
  }

  listFor(priority: Priority): NodeList {
    return priority === 'interactive' ? this.interactive : this.batch;
  }
}
