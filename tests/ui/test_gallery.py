"""The start page's preset gallery: search, filter by kind, cards that say what each preset is."""

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest


def _names(gallery):
    return [c.info.name for c in gallery.cards if c.isVisibleTo(gallery)]


def test_lenet_comes_first_and_every_card_shows_its_whole_title_and_facts(window):
    gallery = window.start_page.gallery
    assert _names(gallery)[0] == "lenet5"
    card = gallery.cards[0]
    assert card.title.text() == "<b>LeNet-5</b>" and card.title.wordWrap()
    assert card.facts.text() == "61,706 parameters · trains on digits"


def test_typing_in_the_search_keeps_the_matching_cards(window):
    gallery = window.start_page.gallery
    QTest.keyClicks(gallery.search, "Inception V3")
    assert sorted(_names(gallery)) == ["inception_v3", "inception_v3_aux"]
    gallery.search.clear()
    QTest.keyClicks(gallery.search, "no such network")
    assert _names(gallery) == [] and gallery.empty.isVisibleTo(gallery)


def test_the_kind_buttons_filter_the_cards(window):
    gallery = window.start_page.gallery
    QTest.mouseClick(gallery.kind_buttons["RL"], Qt.MouseButton.LeftButton)
    assert sorted(_names(gallery)) == ["actor_critic", "dqn_cartpole"]
    QTest.mouseClick(gallery.kind_buttons["generative"], Qt.MouseButton.LeftButton)
    assert sorted(_names(gallery)) == ["dcgan", "gan_mlp", "rbm"]
    QTest.mouseClick(gallery.kind_buttons[""], Qt.MouseButton.LeftButton)
    assert len(_names(gallery)) == len(gallery.cards)
