import { describe, expect, it } from 'vitest';
import { renderTable } from '../../../src/cli/format.js';

describe('aligned tables', () => {
  it('pads text left-aligned and numbers right-aligned, two spaces apart, no trailing blanks', () => {
    expect(
      renderTable(
        ['name', 'restarts', 'vm'],
        [
          ['kvd', 2, 'vm-a'],
          ['cache-long', 10, ''],
        ],
      ),
    ).toBe(['name        restarts  vm', 'kvd                2  vm-a', 'cache-long        10'].join('\n'));
  });

  it('aligns a column left when any of its cells is text', () => {
    expect(renderTable(['pid'], [[42], ['-']])).toBe(['pid', '42', '-'].join('\n'));
  });

  it('renders the header alone when there are no rows', () => {
    expect(renderTable(['a', 'bb'], [])).toBe('a  bb');
  });

  it('keeps a cell wider than its header, and leaves a short row short', () => {
    expect(renderTable(['x', 'y'], [['wide cell'], ['a', 'b']])).toBe(
      ['x          y', 'wide cell', 'a          b'].join('\n'),
    );
  });
});
