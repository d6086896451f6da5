-- The model fixture: every kind of key and the column types rzero-stores reads.
DROP TABLE IF EXISTS `user`;
SET NAMES utf8mb4;

CREATE TABLE `user` (
  `id` bigint NOT NULL AUTO_INCREMENT COMMENT 'the user id',
  `name` varchar(64) NOT NULL COMMENT 'login name, unique',
  `mobile` varchar(20) DEFAULT NULL COMMENT 'unique when set',
  `tenant` int NOT NULL DEFAULT 0,
  `email` varchar(128) NOT NULL,
  `nickname` varchar(64) NOT NULL DEFAULT '' COMMENT 'shown in the UI',
  `type` tinyint unsigned NOT NULL DEFAULT 1 COMMENT 'a keyword as a column',
  `active` bool NOT NULL DEFAULT true,
  `balance` decimal(12,2) NOT NULL DEFAULT '0.00' COMMENT 'money, exact',
  `score` double DEFAULT NULL,
  `bio` text,
  `avatar` blob,
  `settings` json DEFAULT NULL,
  `birthday` date DEFAULT NULL,
  `create_time` timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
  `update_time` timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (`id`),
  UNIQUE KEY `name_unique` (`name`),
  UNIQUE KEY `mobile_unique` (`mobile`),
  UNIQUE KEY `tenant_email_unique` (`tenant`, `email`),
  KEY `nickname_index` (`nickname`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='users of the shop';

/* A natural (non AUTO_INCREMENT) primary key, composite, with a column-level UNIQUE. */
CREATE TABLE product_stock (
  sku varchar(32) NOT NULL,
  warehouse smallint NOT NULL,
  barcode char(13) NOT NULL UNIQUE,
  quantity int unsigned NOT NULL DEFAULT 0,
  price decimal(10,2) NOT NULL,
  restocked_at datetime(3) DEFAULT NULL,
  PRIMARY KEY (sku, warehouse)
) ENGINE=InnoDB;

-- Seed rows travel into the migrations: INSERT IGNORE is INSERT OR IGNORE on SQLite, and
-- strings keep their value (MySQL's backslash escapes read, SQLite's quoting written).
INSERT IGNORE INTO product_stock (sku, warehouse, barcode, quantity, price) VALUES
  ('seed-1', 1, '0000000000001', 5, '9.99'),
  ('it''s a \\ "seed"', 1, '0000000000002', 0, '0.10');
