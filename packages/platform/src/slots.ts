/**
 * At most `size` calls of `run` at once; the rest wait their turn in order. For work whose cost
 * is memory (a 12 MP photo is 36 MB once decoded) and which gains nothing from running more at
 * once than there are cores.
 */
export class Slots {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly size: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await work();
    } finally {
      // The slot passes straight to the next in line, so `active` counts it throughout.
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
