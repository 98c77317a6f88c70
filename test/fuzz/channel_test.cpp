// Replays the channel/select fuzz corpus (test/fuzz/corpus/channel/, made by the libFuzzer
// target fuzz_channel) and a few thousand inputs from a seeded generator through the same
// interpreter and reference model (channel_program.hpp). A mismatch prints the program and
// aborts. Contract IDs exercised: CH-1, CH-3, CH-4, SEL-1, SEL-2.
#include "channel_program.hpp"
#include "harness.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

namespace {

std::vector<std::uint8_t> read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE_MESSAGE(in.good(), "cannot read " << path.string());
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string hex(const std::vector<std::uint8_t>& bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    for (std::uint8_t b : bytes) {
        s += digits[b >> 4];
        s += digits[b & 15];
    }
    return s;
}

}  // namespace

TEST_CASE("every input in the channel fuzz corpus behaves as the Go model says") {
    gorun::test::watchdog dog;
    std::filesystem::path dir =
        std::filesystem::path(GORUN_TEST_SOURCE_DIR) / "fuzz" / "corpus" / "channel";
    REQUIRE(std::filesystem::is_directory(dir));
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir))
        if (entry.is_regular_file())
            files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    REQUIRE(!files.empty());
    for (const auto& path : files) {
        std::vector<std::uint8_t> bytes = read_file(path);
        fuzz_channel::input_name() = path.filename().string();
        fuzz_channel::run_input(bytes.data(), bytes.size());
    }
    fuzz_channel::input_name().clear();
    MESSAGE(files.size() << " corpus inputs replayed");
}

TEST_CASE("random channel op programs behave as the Go model says") {
    gorun::test::watchdog dog;
    // Each input costs a runtime start and stop; sanitizers make that 10-50x dearer.
    const int n = gorun::test::sanitized() ? 1000 : 3000;
    std::mt19937_64 rng(0x5eed'c4a2);
    std::vector<std::uint8_t> bytes;
    for (int i = 0; i < n; ++i) {
        bytes.resize(1 + rng() % 96);
        for (auto& b : bytes)
            b = static_cast<std::uint8_t>(rng());
        fuzz_channel::input_name() = "random #" + std::to_string(i) + " (hex " + hex(bytes) + ")";
        fuzz_channel::run_input(bytes.data(), bytes.size());
    }
    fuzz_channel::input_name().clear();
}
