import { Slots } from './slots';

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

test('never more than its size at once, the rest in the order they came, a failure frees its slot', async () => {
  const slots = new Slots(2);
  let running = 0;
  let most = 0;
  const started: number[] = [];
  const work = (index: number) =>
    slots.run(async () => {
      started.push(index);
      running++;
      most = Math.max(most, running);
      await tick();
      running--;
      if (index === 1) throw new Error('this one fails');
      return index;
    });
  const results = await Promise.allSettled([0, 1, 2, 3, 4, 5].map(work));
  expect(most).toBe(2);
  expect(started).toEqual([0, 1, 2, 3, 4, 5]);
  expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
  // All slots are free again: two more start together.
  await Promise.all([work(6), work(7)]);
  expect(most).toBe(2);
});
