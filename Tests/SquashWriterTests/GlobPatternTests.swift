import SquashWriter
import Testing

@Suite struct GlobPatternTests {
    private func matches(_ pattern: String, _ path: String, directory: Bool = false) throws -> Bool {
        try GlobPattern(pattern).matches(path, isDirectory: directory)
    }

    @Test func namePatternsMatchAtAnyDepth() throws {
        #expect(try matches("*.o", "main.o"))
        #expect(try matches("*.o", "src/deep/main.o"))
        #expect(try !matches("*.o", "main.oo"))
        #expect(try matches("node_modules", "a/b/node_modules", directory: true))
        #expect(try matches("?.txt", "é.txt"))
        #expect(try !matches("?.txt", "ab.txt"))
        #expect(try matches("[abc].txt", "b.txt"))
        #expect(try !matches("[!abc].txt", "b.txt"))
        #expect(try matches("[a-c]x", "cx"))
        #expect(try matches("\\*", "*"))
        #expect(try !matches("\\*", "a"))
    }

    @Test func slashAnchorsAtTheRoot() throws {
        #expect(try matches("build/out", "build/out"))
        #expect(try !matches("build/out", "x/build/out"))
        #expect(try matches("/top", "top"))
        #expect(try !matches("/top", "a/top"))
        #expect(try matches("src/*.c", "src/a.c"))
        #expect(try !matches("src/*.c", "src/sub/a.c"))
    }

    @Test func doubleStarCrossesDirectories() throws {
        #expect(try matches("src/**/*.c", "src/a.c"))
        #expect(try matches("src/**/*.c", "src/x/y/z/a.c"))
        #expect(try matches("**/cache", "cache", directory: true))
        #expect(try matches("**/cache", "a/b/cache", directory: true))
        #expect(try matches("logs/**", "logs/a/b.txt"))
        #expect(try !matches("logs/**", "logs", directory: true))
        #expect(try matches("a/**/b/**/c", "a/x/b/y/z/c"))
    }

    @Test func trailingSlashMeansDirectoriesOnly() throws {
        #expect(try matches("tmp/", "tmp", directory: true))
        #expect(try !matches("tmp/", "tmp", directory: false))
        #expect(try matches("tmp/", "a/tmp", directory: true))
    }

    @Test func invalidPatternsAreRejected() {
        #expect(throws: BuildError.self) { try GlobPattern("") }
        #expect(throws: BuildError.self) { try GlobPattern("[abc") }
        #expect(throws: BuildError.self) { try GlobPattern("/") }
    }
}
