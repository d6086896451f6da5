/* A hostile schema: comments that close early */ -- and line comments */ too
CREATE TABLE `we*/ird``table
fn evil() {}` (
  `id` bigint NOT NULL AUTO_INCREMENT COMMENT 'id */ } fn evil() { /*',
  `na"me` varchar(32) NOT NULL DEFAULT 'x''y\\z' COMMENT 'multi
line `comment` with "quotes", \\ and ''',
  `*/` int DEFAULT NULL COMMENT '*/',
  PRIMARY KEY (`id`),
  UNIQUE KEY `u*/` (`na"me`)
) COMMENT='table */ comment
#![deny(warnings)] pub fn evil() {}';
-- Seed rows with quotes, a backslash, a newline and comment terminators in them.
INSERT IGNORE INTO `we*/ird``table
fn evil() {}` (`na"me`, `*/`) VALUES ('a\'b\nc */', 1), ('");fn evil(){//', NULL);
