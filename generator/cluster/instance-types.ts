/**
 * vCPUs and memory of the EC2 instance types the capacity check knows
 * (AWS's published figures for each type). An environment naming another
 * type is refused until it is added here.
 */
export interface InstanceCapacity {
  vcpus: number;
  memoryGiB: number;
}

const sizes = (family: string, table: [string, number, number][]): [string, InstanceCapacity][] =>
  table.map(([size, vcpus, memoryGiB]) => [`${family}.${size}`, { vcpus, memoryGiB }]);

const GENERAL: [string, number, number][] = [
  ['large', 2, 8],
  ['xlarge', 4, 16],
  ['2xlarge', 8, 32],
  ['4xlarge', 16, 64],
  ['8xlarge', 32, 128],
];
const COMPUTE: [string, number, number][] = GENERAL.map(([size, vcpus, memory]) => [size, vcpus, memory / 2]);
const MEMORY: [string, number, number][] = GENERAL.map(([size, vcpus, memory]) => [size, vcpus, memory * 2]);
const BURSTABLE: [string, number, number][] = [
  ['medium', 2, 4],
  ['large', 2, 8],
  ['xlarge', 4, 16],
  ['2xlarge', 8, 32],
];

export const INSTANCE_TYPES: ReadonlyMap<string, InstanceCapacity> = new Map([
  ...['t3', 't3a'].flatMap((family) => sizes(family, BURSTABLE)),
  ...['m5', 'm6i', 'm6a', 'm7i', 'm7a'].flatMap((family) => sizes(family, GENERAL)),
  ...['c5', 'c6i', 'c6a', 'c7i'].flatMap((family) => sizes(family, COMPUTE)),
  ...['r5', 'r6i', 'r6a', 'r7i'].flatMap((family) => sizes(family, MEMORY)),
]);
