import Foundation
import FuzzTargets
import Testing

/// The fuzzing corpus (Fuzz/corpus: seeds and what libFuzzer kept; Fuzz/regressions: the findings, once fixed), read
/// by every target it was made for: each input must be read without a crash or a broken invariant.
@Suite("Fuzzing corpus, replayed")
struct CorpusReplayTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz")

    static func inputs(_ target: FuzzTarget) -> [URL] {
        ["corpus", "regressions"].flatMap { folder in
            let directory = root.appendingPathComponent(folder).appendingPathComponent(target.rawValue)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            return names.sorted().map { directory.appendingPathComponent($0) }
        }
    }

    @Test("every input of the corpus and the regressions is read without a finding", arguments: FuzzTarget.allCases)
    func replay(target: FuzzTarget) throws {
        let inputs = Self.inputs(target)
        #expect(inputs.count >= 2, "\(target.rawValue) has seeds")
        for input in inputs {
            target.run(Array(try Data(contentsOf: input)))
        }
    }
}
