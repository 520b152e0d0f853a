/** Renders prepared lines: one <Text> per line (the cheapest frame for Ink), spans as nested text. */
import { memo, useContext } from 'react';
import { Box, Text } from 'ink';
import type { Line } from '../view-model/lines.js';
import { ColourContext, toneStyle } from './theme.js';

function LineText({ line }: { line: Line }) {
  const colour = useContext(ColourContext);
  const spans = line.spans;
  if (spans.length === 0) return <Text> </Text>;
  return (
    <Text wrap="truncate" inverse={line.selected === true}>
      {spans.map((s, i) => {
        const style = toneStyle(s.tone, colour);
        return style.color === undefined && style.bold !== true && style.dimColor !== true && style.inverse !== true ? (
          s.text
        ) : (
          <Text key={i} {...style}>
            {s.text}
          </Text>
        );
      })}
    </Text>
  );
}

const MemoLine = memo(LineText);

export function Lines({ lines }: { lines: readonly Line[] }) {
  return (
    <Box flexDirection="column">
      {lines.map((l, i) => (
        <MemoLine key={i} line={l} />
      ))}
    </Box>
  );
}
