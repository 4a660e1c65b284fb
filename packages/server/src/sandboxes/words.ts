/** Word lists for generated sandbox names: short, friendly, unambiguous, safe as hostnames. */

export const ADJECTIVES = [
  'able', 'agile', 'amber', 'ample', 'azure', 'bold', 'brave', 'breezy', 'bright', 'brisk',
  'calm', 'candid', 'cheery', 'civic', 'clever', 'cosmic', 'cozy', 'crisp', 'curious', 'dapper',
  'daring', 'deft', 'dusky', 'eager', 'early', 'earnest', 'easy', 'elder', 'epic', 'fancy',
  'fair', 'fast', 'fearless', 'fluffy', 'fond', 'frank', 'fresh', 'frosty', 'gentle', 'giddy',
  'glad', 'golden', 'grand', 'green', 'happy', 'hardy', 'hazy', 'hearty', 'honest', 'humble',
  'icy', 'ideal', 'jolly', 'jovial', 'keen', 'kind', 'lively', 'lofty', 'loyal', 'lucid',
  'lucky', 'lunar', 'mellow', 'merry', 'mighty', 'misty', 'modest', 'mossy', 'neat', 'nimble',
  'noble', 'odd', 'olive', 'patient', 'peppy', 'placid', 'plucky', 'polite', 'proud', 'quick',
  'quiet', 'rapid', 'rosy', 'rugged', 'rustic', 'sandy', 'savvy', 'serene', 'sharp', 'shiny',
  'silent', 'silver', 'sleek', 'smooth', 'snowy', 'solar', 'snug', 'spry', 'steady', 'stellar',
  'stoic', 'sturdy', 'sunny', 'swift', 'tidy', 'tranquil', 'trusty', 'upbeat', 'vivid', 'warm',
  'wary', 'wise', 'witty', 'zany', 'zesty',
];

export const NOUNS = [
  'acorn', 'albatross', 'alpaca', 'anchor', 'antelope', 'badger', 'banjo', 'beacon', 'beaver', 'birch',
  'bison', 'boulder', 'breeze', 'brook', 'canyon', 'cedar', 'cheetah', 'cloud', 'comet', 'condor',
  'coral', 'cougar', 'coyote', 'crane', 'creek', 'cricket', 'dingo', 'dolphin', 'dove', 'dune',
  'eagle', 'ember', 'falcon', 'fern', 'ferret', 'finch', 'fjord', 'flint', 'fox', 'gazelle',
  'gecko', 'glacier', 'grove', 'harbor', 'hawk', 'heron', 'hedgehog', 'ibis', 'iguana', 'island',
  'jackal', 'jaguar', 'kestrel', 'koala', 'lagoon', 'lark', 'lemur', 'lynx', 'magpie', 'maple',
  'marmot', 'meadow', 'meteor', 'mole', 'moose', 'nebula', 'newt', 'oak', 'ocelot', 'orca',
  'osprey', 'otter', 'owl', 'panda', 'panther', 'pebble', 'pelican', 'penguin', 'pine', 'planet',
  'plover', 'puffin', 'quail', 'quartz', 'rabbit', 'raven', 'reef', 'river', 'robin', 'salmon',
  'sparrow', 'spruce', 'squirrel', 'stork', 'summit', 'swan', 'tapir', 'thrush', 'tiger', 'toucan',
  'trout', 'tundra', 'turtle', 'valley', 'walrus', 'willow', 'wombat', 'wren', 'yak', 'zebra',
];
