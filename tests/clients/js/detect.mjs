// Prints what megalodon's server detection says of the server at argv[2].
import { detector } from "megalodon";

const url = process.argv[2];
try {
  console.log(await detector(url));
} catch (error) {
  console.error(`detection failed: ${error}`);
  process.exit(1);
}
